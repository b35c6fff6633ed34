import Testing

@testable import Primitives

/// Edges of the time and duration parsers that trapped or wrapped before (found while
/// writing the fuzz targets in Fuzz/); the `time` and `duration` targets keep probing them.
@Suite("Fuzz regressions: time and duration parsers")
struct PrimitivesFuzzRegressionTests {
    @Test("durations beyond Int64 nanoseconds are refused, not a trap",
          arguments: ["9223372037", "1e10", "99999999999s", "1e300ms", "106752d", "2562048h"])
    func hugeDurations(text: String) {
        #expect((try? DurationParser.duration(text)) == nil)
    }

    @Test("RFC 3339 just past Int64 nanoseconds is out of range, not wrapped to 1677")
    func rfc3339PastInt64() {
        #expect(RFC3339.parse("2262-04-11T23:47:16.854775807Z") == Int64.max)
        #expect(RFC3339.parse("2262-04-11T23:47:16.854775808Z") == nil)
        #expect(RFC3339.parse("2262-04-11T23:47:16.9Z") == nil)
        #expect(RFC3339.parse("1677-09-21T00:12:43.145224192Z") == Int64.min)
    }
}
