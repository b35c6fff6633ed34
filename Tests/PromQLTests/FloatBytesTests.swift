import Testing
@testable import PromQL

/// The byte writer of sample values prints exactly Go's text, as the String path does.
@Suite struct FloatBytesTests {
    @Test func matches_the_string_path() {
        var rng = SplitMix(seed: 0x5EED)
        var values: [Double] = [0, -0.0, 1, -1, 0.5, 0.05, 12.345, 250.5, 1980, 1e-6, 9.99e-7, 1e14, 1e15, 1e21, 123456789.123,
                                0.1 + 0.2, 1.0 / 3, -2.5e-3, .nan, .infinity, -.infinity, 4503599627370496, 0.000001234]
        for _ in 0..<20_000 {
            let r = rng.next()
            switch r % 5 {
            case 0: values.append(Double(Int64(bitPattern: rng.next()) % 100_000))            // integers
            case 1: values.append(Double(Int64(rng.next() % 1_000_000)) / 1000)               // 3 decimals (power)
            case 2: values.append(Double(Int64(rng.next() % 1_000_000)) / 1_000_000)          // 6 decimals (tensor)
            case 3: values.append(Double(bitPattern: rng.next()))                             // anything
            default: values.append(Double(rng.next() % 1_000_000_007) / 997 * (r & 8 == 0 ? 1 : -1))
            }
        }
        for v in values {
            var bytes: [UInt8] = []
            FloatFormat.appendAPI(v, to: &bytes)
            #expect(String(decoding: bytes, as: UTF8.self) == FloatFormat.api(v), "bits \(v.bitPattern)")
        }
        for v in [Int64(0), 7, -7, 1_700_000_000, Int64.max, Int64.min + 1] {
            var bytes: [UInt8] = []
            FloatFormat.appendInteger(v, to: &bytes)
            #expect(String(decoding: bytes, as: UTF8.self) == String(v))
        }
    }
}

/// A seeded generator (SplitMix64), so a failure names values that can be reproduced.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
