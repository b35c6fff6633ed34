import CSnappy

/// Why a snappy block could not be decompressed.
package enum SnappyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The block's header (its declared uncompressed length) is not a valid varint.
    case badHeader
    /// The block declares more bytes than the caller allows; nothing was allocated.
    case tooLarge(declared: Int, limit: Int)
    /// The block is corrupt or truncated.
    case corrupt

    package var description: String {
        switch self {
        case .badHeader: return "snappy: the block does not start with a valid uncompressed length"
        case .tooLarge(let declared, let limit):
            return "snappy: the block declares \(declared) uncompressed bytes, over the limit of \(limit) bytes (max_body_bytes)"
        case .corrupt: return "snappy: the block is corrupt or truncated"
        }
    }
}

/// The snappy *block* format (not the framed stream format), as Prometheus remote_write sends
/// it, through the system libsnappy.
///
/// ``decompress(_:limit:)`` reads the block's declared length first and refuses a block over
/// `limit` before allocating anything, so a small "snappy bomb" cannot make us allocate
/// gigabytes.
///
/// ```swift
/// let raw = try Snappy.decompress(body, limit: 64 << 20)
/// ```
package enum Snappy {
    /// The uncompressed length a block declares in its header (a varint, at most 2^32 - 1).
    package static func declaredLength(_ block: [UInt8]) throws(SnappyError) -> Int {
        var result = 0
        var shift = 0
        for i in 0..<min(block.count, 5) {
            let b = Int(block[i])
            result |= (b & 0x7F) << shift
            if b < 0x80 {
                // Snappy's own limit: the length fits in 32 bits.
                guard result <= Int(UInt32.max) else { throw .badHeader }
                return result
            }
            shift += 7
        }
        throw .badHeader
    }

    /// Decompresses one block of at most `limit` uncompressed bytes.
    package static func decompress(_ block: [UInt8], limit: Int) throws(SnappyError) -> [UInt8] {
        let declared = try declaredLength(block)
        guard declared <= limit else { throw .tooLarge(declared: declared, limit: limit) }
        guard declared > 0 else {
            // An empty block is the single byte 0x00; anything after it is garbage.
            guard block.count == 1 else { throw .corrupt }
            return []
        }
        var out = [UInt8](repeating: 0, count: declared)
        var outLength = declared
        let status = block.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                src.withMemoryRebound(to: CChar.self) { s in
                    dst.withMemoryRebound(to: CChar.self) { d in
                        snappy_uncompress(s.baseAddress, s.count, d.baseAddress, &outLength)
                    }
                }
            }
        }
        guard status == SNAPPY_OK, outLength == declared else { throw .corrupt }
        return out
    }

    /// Compresses `bytes` into one block (what remote_write senders do; used by tests and tools).
    package static func compress(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: snappy_max_compressed_length(bytes.count))
        var outLength = out.count
        let status = bytes.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                src.withMemoryRebound(to: CChar.self) { s in
                    dst.withMemoryRebound(to: CChar.self) { d in
                        snappy_compress(s.baseAddress, s.count, d.baseAddress, &outLength)
                    }
                }
            }
        }
        // snappy_compress fails only when the output buffer is too small, and it is sized by
        // snappy_max_compressed_length: a failure here is a bug in this wrapper.
        precondition(status == SNAPPY_OK, "snappy_compress failed with an output buffer of its own max length")
        out.removeLast(out.count - outLength)
        return out
    }
}
