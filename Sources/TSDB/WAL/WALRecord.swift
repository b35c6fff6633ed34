import Primitives

/// WAL records: `u32 bodyLength`, `u32 CRC32C(body)`, body = `u8 type` + payload.
/// Type 1 is a sample batch (`varint n`, n × u32 series id, n × i64 timestamp, n × u64
/// value bits, little-endian); type 2 is the same batch LZ4-compressed (`varint rawLength`
/// + block), written when compression shrinks it.
package enum WALRecord {
    package static let headerSize = 8
    static let typeSamples: UInt8 = 1
    static let typeSamplesLZ4: UInt8 = 2
    /// A record larger than this is corruption, not data.
    static let maxBodySize = 512 << 20

    package static func encode(_ batch: SampleBatch, compress: Bool = true) -> [UInt8] {
        let n = batch.count
        var raw: [UInt8] = []
        raw.reserveCapacity(10 + n * 20)
        raw.appendVarint(UInt64(n))
        batch.refs.withUnsafeBytes { raw.append(contentsOf: $0) }
        batch.timestamps.withUnsafeBytes { raw.append(contentsOf: $0) }
        batch.values.withUnsafeBytes { raw.append(contentsOf: $0) }
        if compress, raw.count >= 256, let record = compressed(raw) { return record }
        var out: [UInt8] = []
        out.reserveCapacity(headerSize + 1 + raw.count)
        out.appendFixed(UInt32(1 + raw.count))
        out.appendFixed(UInt32(0))  // the checksum, once the body is in place
        out.append(typeSamples)
        out.append(contentsOf: raw)
        sealHeader(&out)
        return out
    }

    /// The LZ4 record of `raw`, compressed straight into the record (no copy of the block),
    /// or nil when compression does not shrink it.
    private static func compressed(_ raw: [UInt8]) -> [UInt8]? {
        guard let bound = LZ4.compressBound(raw.count) else { return nil }
        var length: [UInt8] = []
        length.appendVarint(UInt64(raw.count))
        let prefix = headerSize + 1 + length.count
        let out = [UInt8](unsafeUninitializedCapacity: prefix + bound) { buf, count in
            count = 0
            let dst = UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: buf[prefix...]))
            guard let written = raw.withUnsafeBytes({ LZ4.compress($0, into: dst) }) else { return }
            buf[headerSize] = typeSamplesLZ4
            for (k, b) in length.enumerated() { buf[headerSize + 1 + k] = b }
            for k in 0..<headerSize { buf[k] = 0 }
            count = prefix + written
        }
        guard !out.isEmpty else { return nil }
        var record = out
        let bodyCount = UInt32(record.count - headerSize)
        record.withUnsafeMutableBytes { b in
            b.storeBytes(of: bodyCount.littleEndian, toByteOffset: 0, as: UInt32.self)
        }
        sealHeader(&record)
        return record
    }

    /// Writes the CRC32C of the body (everything after the header) into the header.
    private static func sealHeader(_ record: inout [UInt8]) {
        record.withUnsafeMutableBytes { b in
            let crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: b[headerSize...]))
            b.storeBytes(of: crc.littleEndian, toByteOffset: 4, as: UInt32.self)
        }
    }

    /// Decodes a record body (already checksum-verified) into a batch.
    package static func decode(body: UnsafeRawBufferPointer) throws -> SampleBatch {
        var r = ByteReader(body)
        let type = try r.byte()
        switch type {
        case typeSamples:
            return try decodeSamples(r.slice(r.remaining))
        case typeSamplesLZ4:
            let rawCount = try r.varint()
            guard rawCount < UInt64(maxBodySize) else { throw CodecError.malformed("WAL record of \(rawCount) bytes") }
            let raw = try LZ4.decompress(r.slice(r.remaining), rawCount: Int(rawCount))
            return try raw.withUnsafeBytes { try decodeSamples($0) }
        default:
            throw CodecError.malformed("unknown WAL record type \(type)")
        }
    }

    private static func decodeSamples(_ bytes: UnsafeRawBufferPointer) throws -> SampleBatch {
        var r = ByteReader(bytes)
        let n64 = try r.varint()
        guard n64 <= UInt64(r.remaining / 20) else { throw CodecError.malformed("sample count \(n64) exceeds the record") }
        let n = Int(n64)
        guard r.remaining == n * 20 else { throw CodecError.malformed("sample batch of \(n) has \(r.remaining) bytes") }
        var batch = SampleBatch(capacity: n)
        let refs = try r.slice(n * 4), ts = try r.slice(n * 8), vals = try r.slice(n * 8)
        batch.refs = [UInt32](unsafeUninitializedCapacity: n) { buf, count in
            UnsafeMutableRawBufferPointer(buf).copyMemory(from: refs)
            count = n
        }
        batch.timestamps = [Int64](unsafeUninitializedCapacity: n) { buf, count in
            UnsafeMutableRawBufferPointer(buf).copyMemory(from: ts)
            count = n
        }
        batch.values = [Double](unsafeUninitializedCapacity: n) { buf, count in
            UnsafeMutableRawBufferPointer(buf).copyMemory(from: vals)
            count = n
        }
        return batch
    }
}
