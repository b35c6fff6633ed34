/// A cursor over one protobuf message inside a byte array: `bytes[position..<end]`.
///
/// Every read is bounds-checked against `end` (the end of this message, not of the whole
/// buffer), so a length that claims more than its parent holds is refused rather than read.
/// Sub-messages share the array; nothing is copied until a string is made.
struct ProtoReader {
    let bytes: [UInt8]
    private(set) var position: Int
    let end: Int

    init(bytes: [UInt8], start: Int, end: Int) {
        self.bytes = bytes
        self.position = start
        self.end = end
    }

    /// The next field's number, wire type and the offset of its tag; nil at the end.
    mutating func nextTag() throws(RemoteWriteError) -> (field: UInt64, wire: UInt64, at: Int)? {
        guard position < end else { return nil }
        let at = position
        let key = try varint()
        let field = key >> 3
        guard field >= 1 else { throw .badWireType(offset: at, field: field, wireType: key & 7) }
        return (field, key & 7, at)
    }

    /// A base-128 varint of at most 10 bytes whose value fits 64 bits.
    mutating func varint() throws(RemoteWriteError) -> UInt64 {
        let start = position
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw .truncated(offset: start, what: "a varint") }
            let b = bytes[position]
            position += 1
            // The 10th byte holds only bit 63: anything above it overflows.
            if shift == 63, b > 1 { throw .varintOverflow(offset: start) }
            result |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return result }
            shift += 7
            if shift > 63 { throw .varintOverflow(offset: start) }
        }
    }

    /// A little-endian fixed 64-bit value (wire type 1).
    mutating func fixed64(at: Int) throws(RemoteWriteError) -> UInt64 {
        guard end - position >= 8 else { throw .truncated(offset: at, what: "a 64-bit field") }
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(bytes[position + i]) << (8 * UInt64(i)) }
        position += 8
        return v
    }

    /// The byte range of a length-delimited field (wire type 2), checked against this message.
    mutating func bytesRange(at: Int, what: String) throws(RemoteWriteError) -> Range<Int> {
        let length = try varint()
        guard length <= UInt64(end - position) else { throw .truncated(offset: at, what: what) }
        let range = position..<(position + Int(length))
        position = range.upperBound
        return range
    }

    /// A length-delimited field as a reader of its own.
    mutating func subMessage(at: Int, what: String) throws(RemoteWriteError) -> ProtoReader {
        let range = try bytesRange(at: at, what: what)
        return ProtoReader(bytes: bytes, start: range.lowerBound, end: range.upperBound)
    }

    /// A UTF-8 string of the given range; invalid UTF-8 is refused, never replaced.
    func string(_ range: Range<Int>, at: Int, what: String) throws(RemoteWriteError) -> String {
        guard let s = String(validating: bytes[range], as: UTF8.self) else {
            throw .invalidUTF8(offset: at, what: what)
        }
        return s
    }

    /// Skips a field this decoder does not use; groups (3, 4) and reserved types (6, 7) are
    /// refused: remote_write never sends them, and skipping a group would mean parsing it.
    mutating func skip(wire: UInt64, field: UInt64, at: Int) throws(RemoteWriteError) {
        switch wire {
        case 0: _ = try varint()
        case 1:
            guard end - position >= 8 else { throw .truncated(offset: at, what: "a 64-bit field") }
            position += 8
        case 2: _ = try bytesRange(at: at, what: "field \(field)")
        case 5:
            guard end - position >= 4 else { throw .truncated(offset: at, what: "a 32-bit field") }
            position += 4
        default: throw .badWireType(offset: at, field: field, wireType: wire)
        }
    }
}
