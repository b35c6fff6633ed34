/// The data the crash tests' writer (`telemetry-debug-append`, Tests/Tools/DebugAppend)
/// appends and the crash tests verify: one definition, so the two cannot drift apart.
/// Batch `b` holds, for every series `k`, the seconds `b * samples ..< (b + 1) * samples`,
/// each second `t` with the value `t * 1000 + k`.
package enum CrashWriterFixture {
    package static let metric = "crash_test"
    package static let nanosPerSecond: Int64 = 1_000_000_000

    /// The label sets of the `count` series, in series order.
    package static func labels(series count: Int) -> [[String: String]] {
        (0..<count).map { ["__name__": metric, "series": String($0)] }
    }

    /// The `i`-th sample time of the whole run (sample `i` of the series, in nanoseconds).
    package static func timestamp(_ i: Int64) -> Int64 { i * nanosPerSecond }

    /// The value of series `series` at second `second`.
    package static func value(second: Int64, series: Int) -> Double { Double(second * 1000 + Int64(series)) }

    /// The batch to write after a run whose newest sample is at `newest` nanoseconds (0 when empty).
    package static func nextBatch(afterNewest newest: Int64, samples: Int) -> Int {
        newest == 0 ? 0 : Int((newest / nanosPerSecond + 1) / Int64(samples))
    }
}
