import Foundation
import Testing
import TSDB
@testable import PromQL

/// A temporary database with hand-built series, closed and removed after `body`.
func withDB(_ samples: [LabeledSample], _ body: (PromQLEngine) throws -> Void) async throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("promql-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var options = TSDBOptions(directory: dir)
    options.backgroundMaintenance = false
    let db = try await TSDB.open(options)
    do {
        _ = try await db.append(samples)
        try body(PromQLEngine(db: db))
    } catch {
        try? await db.close()
        throw error
    }
    try await db.close()
}

/// Samples every `every` ms from `from` to `to` (inclusive) with value `f(t in seconds)`.
func series(_ labels: [String: String], from: Int64, to: Int64, every: Int64 = 15_000, _ f: (Double) -> Double) -> [LabeledSample] {
    stride(from: from, through: to, by: Int(every)).map { t in
        LabeledSample(labels: Labels(labels), timestamp: t * 1_000_000, value: f(Double(t) / 1000))
    }
}

extension QueryValue {
    var samples: [Sample] { if case .vector(_, let s) = self { return s }; return [] }
    var scalarValue: Double? { if case .scalar(_, let v) = self { return v }; return nil }
    var matrix: [Series] { if case .matrix(let m) = self { return m }; return [] }
    func value(_ labels: [String: String]) -> Double? { samples.first { $0.labels == Labels(labels) }?.value }
}

@Suite struct EvaluatorTests {
    // A counter that grows by 1 per second on two GPUs of one host, one GPU of another.
    static let data: [LabeledSample] =
        series(["__name__": "energy", "Hostname": "h1", "gpu": "0", "namespace": "a"], from: 0, to: 600_000) { $0 }
        + series(["__name__": "energy", "Hostname": "h1", "gpu": "1", "namespace": "b"], from: 0, to: 600_000) { 2 * $0 }
        + series(["__name__": "energy", "Hostname": "h2", "gpu": "0", "namespace": "a"], from: 0, to: 600_000) { 3 * $0 }
        + series(["__name__": "util", "Hostname": "h1", "gpu": "0"], from: 0, to: 600_000) { _ in 10 }
        + series(["__name__": "util", "Hostname": "h1", "gpu": "1"], from: 0, to: 600_000) { _ in 90 }
        + series(["__name__": "util", "Hostname": "h2", "gpu": "0"], from: 0, to: 600_000) { _ in 50 }
        + series(["__name__": "util2", "Hostname": "h2", "gpu": "0"], from: 0, to: 600_000) { _ in 7 }
        + [LabeledSample(labels: Labels(["__name__": "lonely"]), timestamp: 0, value: 5)]

    @Test func rate_increase_and_extrapolation() async throws {
        try await withDB(Self.data) { (e: PromQLEngine) throws in
            // Window [40 s, 100 s] holds samples at 45…90 s: 45 of increase over 45 s, extrapolated
            // by 5 s to the start (under 1.1 × the 15 s spacing) and 10 s to the end: 60 in 60 s.
            let r = try e.instantQuery(#"rate(energy{gpu="0",Hostname="h1"}[1m])"#, time: 100_000).0
            #expect(r.samples.count == 1)
            #expect(abs((r.samples.first?.value ?? 0) - 1) < 1e-12)
            #expect(r.samples.first?.labels["__name__"] == nil)
            let inc = try e.instantQuery(#"increase(energy{gpu="1",Hostname="h1"}[1m])"#, time: 100_000).0
            #expect(abs((inc.samples.first?.value ?? 0) - 120) < 1e-9)
            let irate = try e.instantQuery(#"irate(energy{Hostname="h2"}[1m])"#, time: 100_000).0
            #expect(irate.samples.first?.value == 3)
            let d = try e.instantQuery(#"deriv(energy{Hostname="h2"}[2m])"#, time: 300_000).0
            #expect(abs((d.samples.first?.value ?? 0) - 3) < 1e-9)
        }
    }

    @Test func lookback_is_closed_at_five_minutes() async throws {
        try await withDB(Self.data) { (e: PromQLEngine) throws in
            #expect(try e.instantQuery("lonely", time: 300_000).0.samples.first?.value == 5)
            #expect(try e.instantQuery("lonely", time: 300_001).0.samples.isEmpty)
            #expect(try e.instantQuery("lonely offset 1m", time: 360_000).0.samples.count == 1)
            #expect(try e.instantQuery("lonely @ 100", time: 9_000_000).0.samples.count == 1)
            #expect(try e.instantQuery("timestamp(lonely)", time: 200_000).0.samples.first?.value == 0)
        }
    }

    @Test func aggregations() async throws {
        try await withDB(Self.data) { (e: PromQLEngine) throws in
            let t: Int64 = 300_000
            let sum = try e.instantQuery("sum by (Hostname) (util)", time: t).0
            #expect(sum.value(["Hostname": "h1"]) == 100)
            #expect(sum.value(["Hostname": "h2"]) == 50)
            #expect(try e.instantQuery("avg(util)", time: t).0.value([:]) == 50)
            #expect(try e.instantQuery("count without (gpu) (util)", time: t).0.value(["Hostname": "h1"]) == 2)
            #expect(try e.instantQuery("max(util)", time: t).0.value([:]) == 90)
            #expect(try e.instantQuery("min(util)", time: t).0.value([:]) == 10)
            #expect(try e.instantQuery("group(util)", time: t).0.value([:]) == 1)
            // Population variance of 10, 90, 50: mean 50, squares 1600+1600+0 over 3.
            let v = try #require(try e.instantQuery("stdvar(util)", time: t).0.value([:]))
            #expect(abs(v - 3200.0 / 3) < 1e-9)
            let top = try e.instantQuery("topk(2, util)", time: t).0.samples
            #expect(top.map(\.value) == [90, 50])
            #expect(top.first?.labels["__name__"] == "util")
            #expect(try e.instantQuery("bottomk(1, util)", time: t).0.samples.map(\.value) == [10])
            #expect(try e.instantQuery("quantile(0.5, util)", time: t).0.value([:]) == 50)
            #expect(try e.instantQuery("quantile(0.25, util)", time: t).0.value([:]) == 30)
            let cv = try e.instantQuery(#"count_values("u", util)"#, time: t).0
            #expect(cv.value(["u": "90"]) == 1)
        }
    }

    @Test func binary_operators_and_matching() async throws {
        try await withDB(Self.data) { (e: PromQLEngine) throws in
            let t: Int64 = 300_000
            #expect(try e.instantQuery("util > 40", time: t).0.samples.count == 2)
            #expect(try e.instantQuery("util > bool 40", time: t).0.samples.map(\.value).sorted() == [0, 1, 1])
            #expect(try e.instantQuery("40 < util", time: t).0.samples.map(\.value).sorted() == [50, 90])
            let ratio = try e.instantQuery("energy / on(Hostname, gpu) group_left util", time: t).0
            #expect(ratio.value(["Hostname": "h1", "gpu": "1", "namespace": "b"]) == 600.0 / 90)
            // One-to-one ignoring the label only one side has.
            let ign = try e.instantQuery("energy - ignoring(namespace) util", time: t).0
            #expect(ign.value(["Hostname": "h2", "gpu": "0"]) == 850.0)
            #expect(try e.instantQuery(#"util and on(Hostname) energy{namespace="b"}"#, time: t).0.samples.count == 2)
            #expect(try e.instantQuery(#"util unless on(Hostname) energy{namespace="b"}"#, time: t).0.samples.count == 1)
            #expect(try e.instantQuery(#"util{gpu="1"} or util"#, time: t).0.samples.count == 3)
            #expect(throws: PromQLError.self) { try e.instantQuery("energy + on(Hostname) util", time: t) }
        }
    }

    @Test func functions() async throws {
        try await withDB(Self.data) { (e: PromQLEngine) throws in
            let t: Int64 = 300_000
            #expect(try e.instantQuery("clamp_max(util, 60)", time: t).0.samples.map(\.value).sorted() == [10, 50, 60])
            #expect(try e.instantQuery("sort_desc(util)", time: t).0.samples.map(\.value) == [90, 50, 10])
            #expect(try e.instantQuery("absent(nothing{job=\"x\"})", time: t).0.value(["job": "x"]) == 1)
            #expect(try e.instantQuery("absent(util)", time: t).0.samples.isEmpty)
            let lr = try e.instantQuery(#"label_replace(util, "host", "$1-x", "Hostname", "h(.*)")"#, time: t).0
            #expect(lr.samples.contains { $0.labels["host"] == "2-x" })
            let lj = try e.instantQuery(#"label_join(util, "id", ":", "Hostname", "gpu")"#, time: t).0
            #expect(lj.samples.contains { $0.labels["id"] == "h1:1" })
            #expect(try e.instantQuery("sum_over_time(util{gpu=\"1\"}[1m])", time: t).0.samples.first?.value == 450)
            #expect(try e.instantQuery("count_over_time(util{gpu=\"1\"}[1m])", time: t).0.samples.first?.value == 5)
            #expect(try e.instantQuery("changes(util{gpu=\"1\"}[5m])", time: t).0.samples.first?.value == 0)
            #expect(try e.instantQuery("time()", time: 1500).0.scalarValue == 1.5)
            #expect(try e.instantQuery("absent_over_time(nothing[1m])", time: t).0.samples.first?.value == 1)
        }
    }

    @Test func histogram_quantile_interpolates_in_the_bucket() async throws {
        let buckets: [(String, Double)] = [("0.1", 10), ("1", 30), ("10", 40), ("+Inf", 40)]
        let data = buckets.map { LabeledSample(labels: Labels(["__name__": "d_bucket", "le": $0.0]), timestamp: 0, value: $0.1) }
        try await withDB(data) { (e: PromQLEngine) throws in
            // Rank 20 of 40 lies in (0.1, 1] holding ranks 10…30: halfway, 0.55.
            let v = try #require(try e.instantQuery("histogram_quantile(0.5, d_bucket)", time: 0).0.value([:]))
            #expect(abs(v - 0.55) < 1e-12)
        }
    }

    @Test func range_query_steps_from_start() async throws {
        try await withDB(Self.data) { (e: PromQLEngine) throws in
            let m = try e.rangeQuery(#"util{gpu="1"}"#, start: 1_000, end: 100_000, step: 30_000).0.matrix
            #expect(m.count == 1)
            #expect(m.first?.timestamps == [1_000, 31_000, 61_000, 91_000])
            let s = try e.rangeQuery("1+1", start: 0, end: 60_000, step: 30_000).0.matrix
            #expect(s.first?.values == [2, 2, 2])
            #expect(throws: PromQLError.self) { try e.rangeQuery("util", start: 0, end: 1_000_000_000, step: 1) }
            #expect(throws: PromQLError.self) { try e.rangeQuery("util[5m]", start: 0, end: 10, step: 1) }
            // Names dropped by rate collide: Prometheus refuses, so must we.
            #expect(throws: PromQLError.self) { try e.rangeQuery(#"rate({__name__=~"util|util2", Hostname="h2"}[1m])"#, start: 60_000, end: 60_000, step: 1) }
        }
    }

    @Test func a_query_past_its_deadline_times_out() async throws {
        try await withDB(Self.data) { (e: PromQLEngine) throws in
            #expect {
                try e.rangeQuery("sum(util)", start: 0, end: 600_000, step: 1_000, timeout: .zero)
            } throws: { error in
                guard let p = error as? PromQLError, case .timeout = p else { return false }
                return p.httpStatus == 503 && p.errorType == "timeout"
            }
        }
    }

    @Test func float_and_time_text_as_prometheus_writes_them() {
        #expect(FloatFormat.api(1) == "1")
        #expect(FloatFormat.api(0.5) == "0.5")
        #expect(FloatFormat.api(.infinity) == "+Inf")
        #expect(FloatFormat.api(-.infinity) == "-Inf")
        #expect(FloatFormat.api(.nan) == "NaN")
        #expect(FloatFormat.api(1e-7) == "1e-07")
        #expect(FloatFormat.api(1.5e21) == "1.5e+21")
        #expect(FloatFormat.api(123456789.125) == "123456789.125")
        #expect(FloatFormat.api(1e20) == "100000000000000000000")
        #expect(FloatFormat.api(0.000001) == "0.000001")
        #expect(FloatFormat.api(-2.5) == "-2.5")
        let body = String(decoding: PrometheusJSON.query(.scalar(time: 1500, value: 2)), as: UTF8.self)
        #expect(body == #"{"status":"success","data":{"resultType":"scalar","result":[1.500,"2"]}}"#)
        let err = String(decoding: PrometheusJSON.error(.badData("x \"y\"")), as: UTF8.self)
        #expect(err == #"{"status":"error","errorType":"bad_data","error":"x \"y\""}"#)
    }
}
