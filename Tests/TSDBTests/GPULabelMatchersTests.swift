import TelemetryTestSupport
import Testing
@testable import TSDB

/// Filters on GPU labels read through the alias table: one filter, every writer's spelling.
@Suite("GPU label matchers")
struct GPULabelMatchersTests {
    func withDB(_ body: (TSDB) async throws -> Void) async throws {
        let dir = TempDir("alias-matchers")
        let db = try await TSDB.open(options(dir))
        do { try await body(db) } catch { try? await db.close(); throw error }
        try await db.close()
    }

    /// The three spellings of one host, plus another host and a series with no host at all.
    func seed(_ db: TSDB) async throws {
        let series: [([String: String], Double)] = [
            (["Hostname": "n7", "UUID": "GPU-a"], 10),
            (["hostname": "n7", "UUID": "GPU-b"], 20),
            (["host": "n7", "uuid": "GPU-c"], 30),
            (["Hostname": "n8", "UUID": "GPU-d"], 40),
            (["Hostname": "n7", "host": "telegraf-agent", "uuid": "GPU-e"], 50),   // first alias wins: n7
            (["nvswitch": "0"], 60),
        ]
        for (labels, value) in series {
            var l = labels
            l["__name__"] = "m"
            try await db.append([LabeledSample(labels: Labels(l), timestamp: t0, value: value)])
        }
    }

    func values(_ db: TSDB, _ matchers: [LabelMatcher], agg: Aggregation? = nil, groupBy: [String]? = nil) throws -> [Double] {
        var q = Query(metric: "m", matchers: matchers, start: t0, end: t0)
        q.aggregation = agg
        q.groupBy = groupBy
        return try db.queryThroughAliases(q).result.series.flatMap(\.values).sorted()
    }

    @Test("positive and negative matchers follow the table's precedence")
    func precedence() async throws {
        try await withDB { db in
            try await seed(db)
            #expect(try values(db, [try LabelMatcher("host", .equal, "n7")]) == [10, 20, 30, 50])
            #expect(try values(db, [try LabelMatcher("Hostname", .regex, "n[78]")]) == [10, 20, 30, 40, 50])
            // GPU-e's host is n7 (Hostname wins over host), so it is not telegraf-agent's.
            #expect(try values(db, [try LabelMatcher("hostname", .equal, "telegraf-agent")]).isEmpty)
            // Not n7: n8, and the series without any host spelling.
            #expect(try values(db, [try LabelMatcher("host", .notEqual, "n7")]) == [40, 60])
            #expect(try values(db, [try LabelMatcher("UUID", .regex, "GPU-[ce]")]) == [30, 50])
            // Outside the table a matcher is just a matcher.
            #expect(try values(db, [try LabelMatcher("nvswitch", .equal, "0")]) == [60])
        }
    }

    @Test("a group that spans spellings aggregates as one")
    func groupedMerge() async throws {
        try await withDB { db in
            try await seed(db)
            let n7 = [try LabelMatcher("Hostname", .equal, "n7")]
            #expect(try values(db, n7, agg: .avg, groupBy: []) == [27.5])
            #expect(try values(db, n7, agg: .sum, groupBy: []) == [110])
            #expect(try values(db, n7, agg: .max, groupBy: []) == [50])
            #expect(try values(db, n7, agg: .count, groupBy: []) == [4])
        }
    }

    @Test("spellings the database lacks cost no query; too many alternatives are an error")
    func pruningAndLimit() throws {
        let m = try LabelMatcher("host", .equal, "n7")
        #expect(try GPULabelMatchers.alternatives([m], labelNames: ["__name__", "Hostname"]).map { $0.map(\.description) } == [[#"Hostname="n7""#]])
        #expect(try GPULabelMatchers.alternatives([m], labelNames: ["__name__"]).isEmpty)
        #expect(try GPULabelMatchers.alternatives([try LabelMatcher("host", .notEqual, "n7")], labelNames: ["__name__"]).count == 1)
        let many = try ["host", "uuid", "gpu", "namespace", "pod", "container"].map { try LabelMatcher($0, .equal, "x") }
        #expect(throws: TSDBError.self) { try GPULabelMatchers.alternatives(many) }
    }
}
