/// Standard base64 (RFC 4648, `+/`, `=` padding), straight between byte buffers: the broker
/// encodes SSE payloads with it and the SSE consumer decodes them, without a `String` or
/// `Data` per message.
package enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    private static let table: [UInt8] = {
        var t = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() { t[Int(c)] = UInt8(i) }
        return t
    }()

    /// The encoded length of `count` bytes.
    package static func encodedCount(_ count: Int) -> Int { (count + 2) / 3 * 4 }

    /// Encodes `input` at `out` (room for ``encodedCount(_:)`` bytes); returns bytes written.
    package static func encode(_ input: UnsafeBufferPointer<UInt8>, into out: UnsafeMutablePointer<UInt8>) -> Int {
        alphabet.withUnsafeBufferPointer { a in
            let n = input.count
            var i = 0, o = 0
            while i + 3 <= n {
                let v = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
                out[o] = a[Int(v >> 18 & 63)]; out[o + 1] = a[Int(v >> 12 & 63)]
                out[o + 2] = a[Int(v >> 6 & 63)]; out[o + 3] = a[Int(v & 63)]
                i += 3; o += 4
            }
            if n - i == 1 {
                let v = UInt32(input[i]) << 16
                out[o] = a[Int(v >> 18 & 63)]; out[o + 1] = a[Int(v >> 12 & 63)]; out[o + 2] = 61; out[o + 3] = 61
                o += 4
            } else if n - i == 2 {
                let v = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8
                out[o] = a[Int(v >> 18 & 63)]; out[o + 1] = a[Int(v >> 12 & 63)]; out[o + 2] = a[Int(v >> 6 & 63)]; out[o + 3] = 61
                o += 4
            }
            return o
        }
    }

    /// Appends the encoding of `input` to `out`.
    package static func encode(_ input: [UInt8], into out: inout [UInt8]) {
        let start = out.count
        let room = encodedCount(input.count)
        out.append(contentsOf: repeatElement(0, count: room))
        out.withUnsafeMutableBufferPointer { o in
            input.withUnsafeBufferPointer { i in
                _ = encode(i, into: o.baseAddress! + start)
            }
        }
    }

    /// The decoded bytes, or nil when the input is not base64.
    package static func decode(_ input: UnsafeRawBufferPointer) -> [UInt8]? {
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
