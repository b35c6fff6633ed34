import Primitives
import Testing
import TelemetryTestSupport

@Suite("RFC 3339")
struct RFC3339Tests {
    @Test("parses offsets, fractions and the space separator exactly")
    func parse() {
        #expect(RFC3339.parse("1970-01-01T00:00:00Z") == 0)
        #expect(RFC3339.parse("2024-02-29T23:59:59.5Z") == 1_709_251_199_500_000_000)
        #expect(RFC3339.parse("2025-07-18T20:42:34+02:00") == 1_752_864_154_000_000_000)
        #expect(RFC3339.parse("2025-07-18 20:42:34.123456789Z") == 1_752_871_354_123_456_789)
        #expect(RFC3339.parse("2023-02-29T00:00:00Z") == nil)
        #expect(RFC3339.parse("2025-07-18T20:42:34") == nil)
        #expect(RFC3339.parse("2025-13-18T20:42:34Z") == nil)
    }

    /// The one formatter writes fractions in 3, 6 or 9 digits (the API's behaviour; the scrape
    /// path used to write `.5Z`).
    @Test("formats fractions in groups of 3, 6 or 9 digits", arguments: [
        (Int64(1_752_871_354_000_000_000), "2025-07-18T20:42:34Z"),
        (1_752_871_354_500_000_000, "2025-07-18T20:42:34.500Z"),
        (1_752_871_354_123_456_000, "2025-07-18T20:42:34.123456Z"),
        (951_782_400_000_000_001, "2000-02-29T00:00:00.000000001Z"),
        (0, "1970-01-01T00:00:00Z"),
        (-1, "1969-12-31T23:59:59.999999999Z"),
        (.max, "2262-04-11T23:47:16.854775807Z"),
        (.min, "1677-09-21T00:12:43.145224192Z"),
    ])
    func format(nanos: Int64, text: String) {
        #expect(RFC3339.format(nanos) == text)
        var f = RFC3339Formatter()
        var out: [UInt8] = []
        f.append(nanos, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == text)
    }

    @Test("round trips across the whole Int64 range (seeded)")
    func roundTrip() {
        var rng = SeededGenerator(seed: 20250718)
        var f = RFC3339Formatter()
        var cases: [Int64] = [.min, .max, 0, -1, 1, -1_000_000_001]
        for _ in 0..<2000 { cases.append(Int64(bitPattern: rng.next())) }
        for t in cases {
            var out: [UInt8] = []
            f.append(t, to: &out)
            let text = String(decoding: out, as: UTF8.self)
            #expect(RFC3339.parse(text) == t, "seed 20250718: \(t) → \(text)")
        }
    }

    @Test("times outside Int64 nanoseconds are out of range, never wrapped", arguments: [
        "2262-04-11T23:47:16.9Z", "2262-04-11T23:47:16.854775808Z", "2262-04-12T00:00:00Z",
        "9999-12-31T23:59:59Z", "1677-09-21T00:12:43.145224191Z", "0001-01-01T00:00:00Z",
    ])
    func outOfRange(text: String) {
        #expect(RFC3339.parse(text) == nil)
        #expect(throws: TimeParseError.outOfRange(text)) { try RFC3339.parseChecked(text) }
        #expect(throws: TimeParseError.outOfRange(text)) { try TimeParser.parse(text) }
    }

    @Test("the first and last representable times parse")
    func edges() throws {
        #expect(try RFC3339.parseChecked("2262-04-11T23:47:16.854775807Z") == .max)
        #expect(try RFC3339.parseChecked("1677-09-21T00:12:43.145224192Z") == .min)
        #expect(throws: TimeParseError.malformed("9999-13-31T23:59:59Z")) { try RFC3339.parseChecked("9999-13-31T23:59:59Z") }
    }
}
