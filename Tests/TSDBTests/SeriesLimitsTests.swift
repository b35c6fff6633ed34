import Foundation
import Primitives
import Testing
@testable import TSDB
import TelemetryTestSupport

/// The new-series bounds of ``SeriesLimits``: a refusal names the limit and its flag, and
/// creates none of the call's series, so nothing of the request is stored.
@Suite("Series limits")
struct SeriesLimitsTests {
    func open(_ dir: TempDir, clock: TestClock? = nil, _ edit: (inout SeriesLimits) -> Void) async throws -> TSDB {
        var o = options(dir)
        edit(&o.seriesLimits)
        if let clock { o.clock = clock.read }
        return try await TSDB.open(o)
    }

    /// Writes one sample per label set the way every write path does: resolve, then append.
    func write(_ db: TSDB, _ sets: [Labels], at t: Int64 = t0) async throws -> AppendResult {
        try await db.append(sets.map { LabeledSample(labels: $0, timestamp: t, value: 1) })
    }

    func seriesCount(_ db: TSDB, _ metric: String) throws -> Int { try db.query(Query(metric: metric)).series.count }

    func refusal(_ body: () async throws -> Void) async -> (SeriesLimit, String)? {
        do { try await body() } catch let e as TSDBError {
            if case .seriesRefused(let limit, _, _) = e { return (limit, e.description) }
        } catch {}
        return nil
    }

    @Test("the defaults are VictoriaMetrics': 30 labels, 256-byte names, 4 KiB values")
    func defaults() {
        let l = SeriesLimits()
        #expect(l.maxLabelsPerSeries == 30 && l.maxLabelNameLength == 256 && l.maxLabelValueLength == 4096)
        #expect(l.maxNewSeriesPerRequest == 100_000 && l.maxNewSeriesPerHour == nil)
        #expect(SeriesLimit.labelsPerSeries.flag == "--max-labels-per-series")
        #expect(SeriesLimit.newSeriesPerHour.environment == "MAX_NEW_SERIES_PER_HOUR")
    }

    @Test("a series over a per-series limit refuses the whole request: nothing stored, not even the good series")
    func perSeriesRefusesAll() async throws {
        let dir = TempDir()
        let db = try await open(dir) { $0 = SeriesLimits() }
        let good = Labels(["__name__": "m", "gpu": "0"])
        var many = ["__name__": "m"]
        for i in 0..<30 { many["l\(i)"] = "v" }   // 31 labels with __name__
        let cases: [(Labels, SeriesLimit)] = [
            (Labels(many), .labelsPerSeries),
            (Labels(["__name__": "m", String(repeating: "n", count: 257): "v"]), .labelNameLength),
            (Labels(["__name__": "m", "gpu": String(repeating: "v", count: 4097)]), .labelValueLength),
        ]
        for (bad, limit) in cases {
            let got = await refusal { _ = try await write(db, [good, bad]) }
            #expect(got?.0 == limit)
            #expect(got?.1.contains(limit.flag) == true && got?.1.contains("nothing from this request was stored") == true, "\(got?.1 ?? "")")
            #expect(try seriesCount(db, "m") == 0)
        }
        // At the limit is accepted.
        var thirty = ["__name__": "m"]
        for i in 0..<29 { thirty["l\(i)"] = String(repeating: "v", count: 4096) }
        #expect(try await write(db, [good, Labels(thirty)]).appended == 2)
        #expect(try seriesCount(db, "m") == 2)
        try await db.close()
    }

    @Test("a known series is never refused, even after the limit is lowered below it")
    func knownSeriesAccepted() async throws {
        let dir = TempDir()
        let wide = Labels(["__name__": "m", "a": "1", "b": "2", "c": "3"])
        do {
            let db = try await open(dir) { _ in }
            #expect(try await write(db, [wide]).appended == 1)
            try await db.close()
        }
        let db = try await open(dir) { $0.maxLabelsPerSeries = 2 }
        #expect(try await write(db, [wide], at: t0 + sec).appended == 1)
        #expect(try db.query(Query(metric: "m")).series.first?.values.count == 2)
        try await db.close()
    }

    @Test("more new series than max_new_series_per_request in one call: none created; known ones don't count")
    func perRequest() async throws {
        let dir = TempDir()
        let db = try await open(dir) { $0.maxNewSeriesPerRequest = 3 }
        let sets = (0..<4).map { Labels(["__name__": "m", "gpu": "\($0)"]) }
        let got = await refusal { _ = try await write(db, sets) }
        #expect(got?.0 == .newSeriesPerRequest && got?.1.contains("4 new series, over the limit of 3") == true)
        #expect(try seriesCount(db, "m") == 0)
        // Duplicates of one series count once (five samples, three new series).
        #expect(try await write(db, Array(sets[0..<3]) + [sets[0], sets[1]]).appended == 5)
        #expect(try seriesCount(db, "m") == 3)
        // Three known plus three new: only the new count.
        let more = (4..<7).map { Labels(["__name__": "m", "gpu": "\($0)"]) }
        #expect(try await write(db, Array(sets[0..<3]) + more, at: t0 + sec).appended == 6)
        #expect(try seriesCount(db, "m") == 6)
        try await db.close()
    }

    @Test("the per-hour budget refuses a request that would overdraw it, says when to retry, and refills next hour")
    func perHour() async throws {
        let dir = TempDir()
        let hour: Int64 = 1_752_868_800 * sec   // an exact hour
        let clock = TestClock(hour + 59 * Nanos.minute + 30 * sec)
        let db = try await open(dir, clock: clock) { $0.maxNewSeriesPerHour = 5 }
        let sets = (0..<8).map { Labels(["__name__": "m", "gpu": "\($0)"]) }
        let t = hour + 59 * Nanos.minute
        #expect(try await write(db, Array(sets[0..<4]), at: t).appended == 4)
        var retry: Int?
        do { _ = try await write(db, Array(sets[2..<6]), at: t) } catch let TSDBError.seriesRefused(limit, detail, after) {
            #expect(limit == .newSeriesPerHour && detail.contains("2 new series would exceed the budget of 5 new series per hour (4 created this hour)"))
            retry = after
        }
        #expect(retry == 30)
        #expect(try seriesCount(db, "m") == 4)
        // Known series still write; one more new fits.
        #expect(try await write(db, Array(sets[0..<5]), at: t + sec).appended == 5)
        #expect(try seriesCount(db, "m") == 5)
        clock.set(hour + Nanos.hour)
        #expect(try await write(db, Array(sets[5..<8]), at: t + 2 * sec).appended == 3)
        #expect(try seriesCount(db, "m") == 8)
        try await db.close()
    }
}
