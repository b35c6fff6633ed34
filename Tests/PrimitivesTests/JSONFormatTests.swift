import Primitives
import Testing

@Suite("JSON text")
struct JSONFormatTests {
    @Test("strings: quotes, backslashes and control bytes escaped; UTF-8 kept", arguments: [
        ("plain", "\"plain\""),
        ("a\"b\\c", "\"a\\\"b\\\\c\""),
        ("l1\nl2\r\t", "\"l1\\nl2\\r\\t\""),
        ("\u{01}\u{1F}", "\"\\u0001\\u001f\""),
        ("ünïcødé 🚀", "\"ünïcødé 🚀\""),
        ("", "\"\""),
    ])
    func strings(input: String, expected: String) {
        #expect(JSONFormat.quoted(input) == expected)
    }

    /// Decided once for every writer: JSON has no NaN or infinity, so they are `null`.
    @Test("numbers: integral ones without .0, others shortest; NaN and infinities are null")
    func numbers() {
        #expect(JSONFormat.number(42) == "42")
        #expect(JSONFormat.number(-3) == "-3")
        #expect(JSONFormat.number(-0.0) == "-0.0")
        #expect(JSONFormat.number(0.1) == "0.1")
        #expect(JSONFormat.number(1e300) == "1e+300")
        #expect(JSONFormat.number(9_007_199_254_740_992) == "9007199254740992.0")
        #expect(JSONFormat.number(.nan) == "null")
        #expect(JSONFormat.number(.infinity) == "null")
        #expect(JSONFormat.number(-.infinity) == "null")
    }

    @Test("integers: every digit count and both extremes")
    func integers() {
        for v: Int64 in [0, 9, 10, -1, 1_234_567_890, .max, .min] {
            let text = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: JSONFormat.maxIntegralLength) { buf in
                String(decoding: UnsafeBufferPointer(rebasing: buf[..<JSONFormat.writeInt(v, to: buf.baseAddress!)]), as: UTF8.self)
            }
            #expect(text == String(v))
        }
    }

    @Test("integers: each power of ten and its neighbours, and seeded random values, as String(v)")
    func integerDigitPairs() {
        var values: [Int64] = []
        var p: Int64 = 1
        for _ in 0..<19 {
            values += [p - 1, p, p + 1, -(p - 1), -p, -(p + 1)]
            if p <= Int64.max / 10 { p *= 10 }
        }
        let seed: UInt64 = 0x5EED_0013
        var state = seed
        for _ in 0..<2_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            values.append(Int64(bitPattern: state) >> Int64(state % 60))
        }
        for v in values {
            let text = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: JSONFormat.maxIntegralLength) { buf in
                String(decoding: UnsafeBufferPointer(rebasing: buf[..<JSONFormat.writeInt(v, to: buf.baseAddress!)]), as: UTF8.self)
            }
            #expect(text == String(v), "seed \(seed)")
        }
    }
}
