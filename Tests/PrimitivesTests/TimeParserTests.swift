import Primitives
import Testing

@Suite("Times: epoch, now and the combined parser")
struct TimeParserTests {
    @Test("epoch units follow from magnitude")
    func epochUnits() throws {
        #expect(try TimeParser.parse("1752871354") == 1_752_871_354_000_000_000)
        #expect(try TimeParser.parse("1752871354123") == 1_752_871_354_123_000_000)
        #expect(try TimeParser.parse("1752871354123456") == 1_752_871_354_123_456_000)
        #expect(try TimeParser.parse("1752871354123456789") == 1_752_871_354_123_456_789)
        #expect(try TimeParser.parse("1752871354.5") == 1_752_871_354_500_000_000)
        #expect(try TimeParser.parse(" 0 ") == 0)
        #expect(Epoch.nanos(fromInteger: -5) == -5_000_000_000)
    }

    @Test("epoch values beyond Int64 nanoseconds are out of range", arguments: [
        "99999999999999999999", "9223372036854775808", "-99999999999999999999", "1e300",
    ])
    func epochOutOfRange(text: String) {
        #expect(throws: TimeParseError.outOfRange(text)) { try TimeParser.parse(text) }
        #expect(Epoch.parse(text) == nil)
    }

    @Test("the largest seconds value that magnitude rules call seconds overflows cleanly")
    func secondsMagnitudeOverflow() {
        // 99_999_999_999 s is ~3170 years after 1970: beyond 2262.
        #expect(throws: TimeParseError.outOfRange("99999999999")) { try TimeParser.parse("99999999999") }
    }

    @Test("now and now-<duration>")
    func now() throws {
        let clock: Int64 = 1_752_871_354_000_000_000
        #expect(try TimeParser.parse("now", now: clock) == clock)
        #expect(try TimeParser.parse("now-1h", now: clock) == clock - 3_600_000_000_000)
        #expect(try TimeParser.parse("now-1h30m", now: clock) == clock - 5_400_000_000_000)
        #expect(throws: TimeParseError.outOfRange("now-9999w")) { try TimeParser.parse("now-9999w", now: .min + 1) }
        #expect(throws: TimeParseError.malformed("now-x")) { try TimeParser.parse("now-x", now: clock) }
        let wall = TimeParser.wallClockNanos()
        #expect(wall > clock)
    }

    @Test("malformed times say how to write one", arguments: ["tomorrow", "", "12:00", "2025-07-18", "0x10"])
    func malformed(text: String) {
        #expect(throws: TimeParseError.malformed(text)) { try TimeParser.parse(text) }
        #expect(TimeParseError.malformed(text).description.contains("RFC 3339"))
    }
}
