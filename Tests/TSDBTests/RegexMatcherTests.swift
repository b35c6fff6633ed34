import Foundation
import Primitives
import Testing
@testable import TSDB
import TelemetryTestSupport

/// RE2 matchers (Prometheus' semantics), the per-(label, pattern) cache and the query deadline.
@Suite("Regex matchers and query deadline")
struct RegexMatcherTests {
    @Test("RE2 semantics: anchored at both ends, dot matches newline, Go/RE2 syntax")
    func semantics() throws {
        let m = try LabelMatcher("UUID", .regex, "GPU-[0-9]+")
        #expect(m.matches("GPU-12"))
        #expect(!m.matches("xGPU-12"), "anchored at the start")
        #expect(!m.matches("GPU-12x"), "anchored at the end")
        #expect(try LabelMatcher("v", .regex, "a.b").matches("a\nb"))
        #expect(try LabelMatcher("v", .regex, "a|b").matches("b"))
        #expect(try LabelMatcher("v", .regex, "(?i)abc").matches("ABC"))
        #expect(try LabelMatcher("v", .regex, "\\d{2}").matches("42"))
        #expect(try LabelMatcher("v", .regex, "").matches(""))
        #expect(try LabelMatcher("v", .notRegex, "a.*").matches("ba"))
        #expect(try LabelMatcher("v", .regex, "é+").matches("éé"), "UTF-8")
    }

    @Test("an invalid pattern is a typed error naming the matcher", arguments: ["gpu=~[", "gpu=~(a", "gpu!~a)", "gpu=~a**", "gpu=~a{2,1}"])
    func invalid(text: String) {
        #expect {
            try LabelMatcher(parsing: text)
        } throws: { error in
            guard case TSDBError.invalidQuery(let m) = error else { return false }
            return m.contains("invalid regular expression") && m.contains("gpu")
        }
    }

    @Test("the hostile pattern (.|.)*! over long values returns, and matches correctly")
    func hostilePattern() async throws {
        let dir = TempDir()
        let db = try await TSDB.open(options(dir))
        var batch: [LabeledSample] = []
        for i in 0..<200 {
            let value = String(repeating: "a", count: 4_000) + (i % 50 == 0 ? "!" : "")
            batch.append(LabeledSample(labels: Labels(["__name__": "m", "UUID": "u\(i)-" + value]), timestamp: t0, value: Double(i)))
        }
        try await db.append(batch)
        let started = ContinuousClock.now
        let r = try db.query(Query(metric: "m", matchers: [try LabelMatcher("UUID", .regex, "(.|.)*!")]))
        #expect(r.series.map(\.values[0]).sorted() == [0, 50, 100, 150])
        // A backtracking engine takes minutes here (issue 9); RE2 is linear in the input.
        #expect(ContinuousClock.now - started < .seconds(20))
        try await db.close()
    }

    @Test("matches are cached per (label, pattern) and extended when new label values appear")
    func cacheExtends() async throws {
        let dir = TempDir()
        let db = try await TSDB.open(options(dir))
        func write(_ host: String) async throws {
            try await db.append([LabeledSample(labels: Labels(["__name__": "c", "Hostname": host]), timestamp: t0, value: 1)])
        }
        func hosts(_ m: String) throws -> [String] {
            try db.query(Query(metric: "c", matchers: [try LabelMatcher(parsing: m)])).series.compactMap { $0.labels["Hostname"] }.sorted()
        }
        try await write("dgx-1"); try await write("dgx-2"); try await write("hgx-1")
        #expect(try hosts("Hostname=~dgx-.*") == ["dgx-1", "dgx-2"])
        #expect(db.regexCache.count == 1)
        try await write("dgx-3"); try await write("hgx-2")
        #expect(try hosts("Hostname=~dgx-.*") == ["dgx-1", "dgx-2", "dgx-3"], "new values are matched on the next use")
        #expect(try hosts("Hostname!~dgx-.*") == ["hgx-1", "hgx-2"])
        #expect(db.regexCache.count == 1, "=~ and !~ share one entry")
        // A regex that matches the empty string also selects series without the label.
        try await db.append([LabeledSample(labels: Labels(["__name__": "c", "gpu": "0"]), timestamp: t0, value: 1)])
        let all = try db.query(Query(metric: "c", matchers: [try LabelMatcher(parsing: "Hostname=~(hgx-.*)?")])).series
        #expect(all.map { $0.labels["Hostname"] ?? "-" }.sorted() == ["-", "hgx-1", "hgx-2"])
        try await db.close()
    }

    @Test("the cache is bounded")
    func cacheBounded() throws {
        let cache = RegexMatchCache(capacity: 4)
        for i in 0..<10 {
            _ = try cache.verdicts(try LabelMatcher("x", .regex, "a\(i)"), values: ["a1", "b"], deadline: .none)
        }
        #expect(cache.count == 4)
    }

    @Test("a query past its timeout stops with queryTimeout, naming the flag")
    func deadline() async throws {
        let dir = TempDir()
        let db = try await TSDB.open(options(dir))
        let ref = try db.resolve(Labels(["__name__": "slow", "gpu": "0"]))
        var b = SampleBatch()
        for i in 0..<1000 { b.append(ref, t0 + Int64(i) * sec, Double(i)) }
        try await db.append(b)
        var q = Query(metric: "slow")
        q.timeout = 1   // 1 ns: over by the first check
        #expect(throws: TSDBError.queryTimeout(limit: 1)) { try db.query(q) }
        #expect(TSDBError.queryTimeout(limit: 30 * sec).description.contains("--query-timeout"))
        q.timeout = nil
        #expect(try db.query(q).series[0].timestamps.count == 1000, "the default (30 s) leaves it be")
        try await db.close()
    }
}
