import Primitives
import Testing

@Suite("Durations")
struct DurationTests {
    @Test("every unit, decimals, combos and bare seconds", arguments: [
        ("10ns", Int64(10)), ("100us", 100_000), ("100µs", 100_000), ("250ms", 250_000_000),
        ("15s", 15_000_000_000), ("1.5s", 1_500_000_000), ("5m", 300_000_000_000), ("2h", 7_200_000_000_000),
        ("7d", 604_800_000_000_000), ("1w", 604_800_000_000_000), ("1h30m", 5_400_000_000_000),
        ("1m30s500ms", 90_500_000_000), ("30", 30_000_000_000), ("0.2", 200_000_000), (" 90 ", 90_000_000_000),
        ("0", 0), ("0s", 0), (".5s", 500_000_000),
    ])
    func parses(text: String, nanos: Int64) throws {
        #expect(try DurationParser.nanoseconds(text) == nanos)
        #expect(try DurationParser.duration(text) == .nanoseconds(nanos))
    }

    /// `--retention`, `--visibility-timeout`, `--heartbeat`, `--health-interval`, `--step` and the
    /// API's `step=` all go through ``DurationParser``, so `1w` works for each; before, the
    /// broker's flags refused it.
    @Test("1w is a week for every flag that takes a duration", arguments: [
        "--retention", "--visibility-timeout", "--heartbeat", "--health-interval", "--step", "step=",
    ])
    func weekEverywhere(flag: String) throws {
        #expect(try DurationParser.duration("1w") == .seconds(7 * 86_400), "\(flag)")
    }

    @Test("too long for Int64 nanoseconds is out of range, never a trap", arguments: [
        "9999999999w", "15251w", "9223372036854775808ns",
        "106752d1ns", "99999999999999999999", "9223372036s854775808ns",
    ])
    func outOfRange(text: String) {
        #expect(throws: TimeParseError.durationOutOfRange(text)) { try DurationParser.nanoseconds(text) }
    }

    @Test("malformed durations say which units exist", arguments: ["", "x", "5x", "-5s", "1h30", "h", "1.2.3s", "1e3", "1 h"])
    func malformed(text: String) {
        #expect(throws: TimeParseError.malformedDuration(text)) { try DurationParser.nanoseconds(text) }
        #expect(TimeParseError.malformedDuration(text).description.contains("ms, s, m, h, d, w"))
    }

    @Test("Retry-After takes delay-seconds only, range-checked")
    func retryAfter() throws {
        #expect(try RetryAfter.parse("120") == .seconds(120))
        #expect(try RetryAfter.parse(" 0.5 ") == .milliseconds(500))
        #expect(throws: TimeParseError.self) { try RetryAfter.parse("Wed, 21 Oct 2015 07:28:00 GMT") }
        #expect(throws: TimeParseError.self) { try RetryAfter.parse("1h") }
        #expect(throws: TimeParseError.self) { try RetryAfter.parse("-1") }
        #expect(throws: TimeParseError.durationOutOfRange("99999999999999999999")) { try RetryAfter.parse("99999999999999999999") }
    }
}
