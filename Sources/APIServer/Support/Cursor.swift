/// Opaque pagination cursors: the position after the last item of a page, as URL-safe
/// base64 of a short text, so clients cannot depend on its inside.
enum Cursor {
    static func encode(_ text: String) -> String {
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let b0 = UInt32(bytes[i])
            let b1 = i + 1 < bytes.count ? UInt32(bytes[i + 1]) : 0
            let b2 = i + 2 < bytes.count ? UInt32(bytes[i + 2]) : 0
            let n = b0 << 16 | b1 << 8 | b2
            out.append(table[Int(n >> 18 & 63)])
            out.append(table[Int(n >> 12 & 63)])
            if i + 1 < bytes.count { out.append(table[Int(n >> 6 & 63)]) }
            if i + 2 < bytes.count { out.append(table[Int(n & 63)]) }
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ cursor: String) throws(APIError) -> String {
        var values: [UInt32] = []
        for c in cursor.utf8 {
            switch c {
            case 0x41...0x5A: values.append(UInt32(c - 0x41))
            case 0x61...0x7A: values.append(UInt32(c - 0x61 + 26))
            case 0x30...0x39: values.append(UInt32(c - 0x30 + 52))
            case 0x2D: values.append(62)
            case 0x5F: values.append(63)
            default: throw .badRequest("cursor is not valid; pass next_cursor from a previous page unchanged")
            }
        }
        guard values.count % 4 != 1 else { throw .badRequest("cursor is not valid; pass next_cursor from a previous page unchanged") }
        var out: [UInt8] = []
        var i = 0
        while i < values.count {
            let chunk = values[i..<min(i + 4, values.count)]
            var n: UInt32 = 0
            for (k, v) in chunk.enumerated() { n |= v << (18 - 6 * UInt32(k)) }
            out.append(UInt8(n >> 16 & 0xFF))
            if chunk.count > 2 { out.append(UInt8(n >> 8 & 0xFF)) }
            if chunk.count > 3 { out.append(UInt8(n & 0xFF)) }
            i += 4
        }
        guard let text = String(validating: out, as: UTF8.self) else {
            throw .badRequest("cursor is not valid; pass next_cursor from a previous page unchanged")
        }
        return text
    }
}
