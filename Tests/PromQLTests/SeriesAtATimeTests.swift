import Testing
import TSDB
@testable import PromQL

/// The series-at-a-time range evaluation gives exactly what the step-by-step evaluator gives.
@Suite struct SeriesAtATimeTests {
    static let data: [LabeledSample] = EvaluatorTests.data
        // A gap longer than the lookback, a counter reset and a NaN.
        + series(["__name__": "gappy", "Hostname": "h1", "gpu": "0"], from: 0, to: 120_000) { $0 }
        + series(["__name__": "gappy", "Hostname": "h1", "gpu": "0"], from: 500_000, to: 600_000) { $0 - 500 }
        + [LabeledSample(labels: Labels(["__name__": "gappy", "Hostname": "h2", "gpu": "0"]), timestamp: 300_000_000_000, value: .nan)]

    static let queries = [
        "util", #"util{Hostname="h1"}"#, "energy offset 1m", "util @ 300", "gappy",
        "rate(energy[1m])", "increase(energy[2m])", "irate(gappy[1m])", "resets(gappy[5m])", "deriv(energy[3m])",
        "avg_over_time(util[1m])", "max_over_time(gappy[2m])", "min_over_time(energy[30s])", "last_over_time(gappy[1m])",
        "count_over_time(gappy[5m])", "stddev_over_time(energy[2m])", "present_over_time(gappy[1m])", "changes(gappy[3m])",
        "sum by (Hostname) (util)", "avg by (Hostname) (energy)", "max without (gpu) (gappy)", "count(util)", "group by (gpu) (energy)",
        "min by (Hostname) (rate(energy[1m]))", "sum(avg_over_time(util[1m]))",
        "util > 20", "util < bool 50", "100 - util", "2 * energy", "energy / util", "energy / on(Hostname, gpu) util",
        "energy - ignoring(namespace) util", "util == bool util", "sum by (Hostname) (energy) / sum by (Hostname) (util) * 100",
        // Not on the fast path (fall back): still equal, trivially.
        "topk(1, util)", #"{__name__=~"util|energy"} * 2"#, "rate({__name__=~\"energy|util\"}[1m])",
    ]

    @Test(arguments: queries) func equals_step_evaluator(_ query: String) async throws {
        try await withDB(Self.data) { (fast: PromQLEngine) throws in
            var slow = fast
            slow.seriesAtATime = false
            for (start, end, step) in [(Int64(0), Int64(600_000), Int64(15_000)), (100_000, 590_000, 7_000)] {
                let a = try fast.rangeQuery(query, start: start, end: end, step: step).0.matrix
                let b = try slow.rangeQuery(query, start: start, end: end, step: step).0.matrix
                #expect(a.count == b.count, "\(query): \(a.count) series vs \(b.count)")
                for (x, y) in zip(a, b) {
                    #expect(x.labels == y.labels, "\(query)")
                    #expect(x.timestamps == y.timestamps, "\(query) \(x.labels)")
                    #expect(zip(x.values, y.values).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }, "\(query) \(x.labels)")
                }
            }
        }
    }

    @Test func staleness_markers_end_a_series_as_in_prometheus() async throws {
        let stale = Double(bitPattern: 0x7FF0_0000_0000_0002)
        let data = series(["__name__": "up", "job": "a"], from: 0, to: 60_000) { _ in 1 }
            + [LabeledSample(labels: Labels(["__name__": "up", "job": "a"]), timestamp: 75_000_000_000, value: stale)]
        try await withDB(data) { (e: PromQLEngine) throws in
            #expect(try e.instantQuery("up", time: 70_000).0.samples.count == 1)
            // Within the lookback of the last real sample, but after the marker: gone.
            #expect(try e.instantQuery("up", time: 80_000).0.samples.isEmpty)
            // Range functions skip the marker: 5 samples, not 6 (and no NaN).
            #expect(try e.instantQuery("count_over_time(up[2m])", time: 80_000).0.samples.first?.value == 5)
            for fast in [true, false] {
                var engine = e
                engine.seriesAtATime = fast
                let m = try engine.rangeQuery("up", start: 0, end: 120_000, step: 15_000).0.matrix
                #expect(m.first?.timestamps == [0, 15_000, 30_000, 45_000, 60_000])
            }
        }
    }

    static let overTime = [
        "max_over_time(gappy[5m])", "min_over_time(energy[2m])", "sum_over_time(util[10m])", "avg_over_time(energy[3m])",
        "avg_over_time(gappy[10m])", "max_over_time(gappy[10m] offset 1m)", "sum by (Hostname) (max_over_time(util[1m]))",
        "max_over_time(lonely[10m])",
    ]

    @Test(arguments: overTime) func over_time_pushdown_equals_sample_by_sample(_ query: String) async throws {
        try await withDB(Self.data) { (fast: PromQLEngine) throws in
            var slow = fast
            slow.pushdownOverTime = false
            for t: Int64 in [0, 130_000, 300_000, 555_555, 600_000] {
                let a = try fast.instantQuery(query, time: t).0.samples, b = try slow.instantQuery(query, time: t).0.samples
                #expect(a.map(\.labels) == b.map(\.labels), "\(query) @ \(t)")
                for (x, y) in zip(a, b) {
                    let same = x.value == y.value || (x.value.isNaN && y.value.isNaN) || abs(x.value - y.value) <= 1e-12 * abs(y.value)
                    #expect(same, "\(query) @ \(t): \(x.value) vs \(y.value)")
                }
            }
        }
    }

    @Test func duplicate_label_sets_after_dropping_the_name_still_fail() async throws {
        try await withDB(Self.data) { (e: PromQLEngine) throws in
            // util and util2 of h2/gpu 0 collide once the name goes: Prometheus' error, not a merge.
            #expect(throws: PromQLError.self) {
                _ = try e.rangeQuery(#"rate({__name__=~"util|util2", Hostname="h2"}[1m])"#, start: 0, end: 600_000, step: 15_000)
            }
        }
    }
}
