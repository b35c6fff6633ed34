/// Standard base64 (RFC 4648, `+/`, `=` padding) decoding straight from bytes: what the SSE
/// consumer uses for payloads, without building a `String` or `Data` per message.
package enum Base64Decoder {
    private static let table: [UInt8] = {
        var t = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() { t[Int(c)] = UInt8(i) }
        return t
    }()

    /// The decoded bytes, or nil when the input is not base64.
    static func decode(_ input: UnsafeRawBufferPointer) -> [UInt8]? {
        var n = input.count
        while n > 0 && input[n - 1] == UInt8(ascii: "=") { n -= 1 }
        guard input.count % 4 == 0 || n == input.count else { return nil }
        let full = n / 4
        let rest = n % 4
        guard rest != 1 else { return nil }
        var out = [UInt8](repeating: 0, count: full * 3 + (rest == 0 ? 0 : rest - 1))
        let ok: Bool = table.withUnsafeBufferPointer { t in
            out.withUnsafeMutableBufferPointer { o in
                var bad: UInt8 = 0
                var j = 0
                var i = 0
                for _ in 0..<full {
                    let a = t[Int(input[i])], b = t[Int(input[i + 1])], c = t[Int(input[i + 2])], d = t[Int(input[i + 3])]
                    bad |= a | b | c | d
                    o[j] = a << 2 | b >> 4
                    o[j + 1] = b << 4 | c >> 2
                    o[j + 2] = c << 6 | d
                    i += 4
                    j += 3
                }
                if rest >= 2 {
                    let a = t[Int(input[i])], b = t[Int(input[i + 1])]
                    bad |= a | b
                    o[j] = a << 2 | b >> 4
                    if rest == 3 {
                        let c = t[Int(input[i + 2])]
                        bad |= c
                        o[j + 1] = b << 4 | c >> 2
                    }
                }
                return bad & 0xC0 == 0
            }
        }
        return ok ? out : nil
    }

    package static func decode(_ input: [UInt8]) -> [UInt8]? {
        input.withUnsafeBytes { decode($0) }
    }
}
