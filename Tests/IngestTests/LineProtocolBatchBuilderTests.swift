import Foundation
import Testing
import TSDB
@testable import Ingest
import TelemetryTestSupport

/// Line protocol parsed in place into a batch (``LineProtocolBatchBuilder``): the same
/// series, samples and errors as ``LineProtocolParser/parse``, known series found by their
/// raw bytes without new catalog rows, a bounded cache, and recovery from stale refs.
@Suite("Line protocol batch builder")
struct LineProtocolBatchBuilderTests {
    static let now = WallClock.nanos()
    static var ms: Int64 { now / 1_000_000 }

    /// Escapes, several fields, booleans, integers, a string field, a `__name__` tag, a
    /// line without a timestamp, tags in another order, comments and CRLF.
    static var body: [UInt8] {
        Array("""
            # a comment
            cpu\\ load,host=a\\,b,region=us\\ west value=1.5,count=3i,ok=true,msg="hi \\"x\\"" \(ms)
            cpu\\ load,region=us\\ west,host=a\\,b value=2.5 \(ms + 1)\r
            gpu,__name__=ignored,UUID=GPU-1 util=42u,temp=-1.25e1,up=F \(ms + 2)
            gpu,UUID=GPU-2 util=7i

            """.utf8)
    }

    static func sorted(_ s: [LabeledSample]) -> [String] {
        s.map { "\($0.labels) \($0.timestamp) \($0.value)" }.sorted()
    }

    @Test func storesWhatTheParserReturns() async throws {
        let dirTemp = TempDir("ingest-lp-batch-same")
        let dir = dirTemp.path
        let db = try await TSDB.open(TSDBOptions(directory: dir))
        let expected = try LineProtocolParser.parse(Self.body, precision: .ms, now: Self.now)
        let builder = LineProtocolBatchBuilder()
        var parsed = try builder.parse(Self.body, precision: .ms, now: Self.now)
        #expect(parsed.lines == expected.lines && parsed.lines == 4)
        #expect(parsed.skippedStringFields == expected.skippedStringFields && parsed.skippedStringFields == 1)
        let batch = try builder.seal(&parsed, db: db)
        #expect(batch.count == expected.samples.count && batch.count == 8)
        let r = try await db.append(batch)
        #expect(r.appended == 8)
        let stored = try db.query(Query()).series.flatMap { s in
            s.timestamps.indices.map { LabeledSample(labels: s.labels, timestamp: s.timestamps[$0], value: s.values[$0]) }
        }
        #expect(Self.sorted(stored) == Self.sorted(expected.samples))
        // The tag order differs between the first two lines, yet they are one series.
        #expect(db.seriesCount == 7)

        // Known series come from the cache: the same refs, no new series.
        var again = try builder.parse(Self.body, precision: .ms, now: Self.now)
        #expect(again.batch.refs.allSatisfy { $0 != 0 })
        #expect(try builder.seal(&again, db: db).refs == batch.refs)
        #expect(db.seriesCount == 7)
        try await db.close()
    }

    @Test func badLinesAreThoseOfTheParser() throws {
        let builder = LineProtocolBatchBuilder()
        let text = Array("m value=1\nm,tag value=1\n\nm value=1i2\nm value=2 12a\nm value=3 5\n".utf8)
        let expected = try LineProtocolParser.parse(text, now: 0, badLines: .skip)
        let parsed = try builder.parse(text, now: 0, badLines: .skip)
        #expect(parsed.badLines == expected.badLines && parsed.badLines.count == 3)
        #expect(parsed.batch.count == 2 && parsed.batch.timestamps == [0, 5])
        for input in ["m value=1\nm value=x\n", "m\n", "\n\nm value=\"unterminated\n", "m value=1 99999999999999999999\n"] {
            var a: LineProtocolError?, b: LineProtocolError?
            do { _ = try LineProtocolParser.parse(Array(input.utf8), now: 0) } catch { a = error }
            do { _ = try builder.parse(Array(input.utf8), now: 0) } catch { b = error }
            #expect(a != nil && a == b, "\(input)")
        }
    }

    /// A cache far smaller than the series written restarts empty and still maps every
    /// line to its own series; a second write of the same lines adds none.
    @Test func boundedCacheStaysCorrect() async throws {
        let dirTemp = TempDir("ingest-lp-batch-bound")
        let dir = dirTemp.path
        let db = try await TSDB.open(TSDBOptions(directory: dir))
        let builder = LineProtocolBatchBuilder(maxCachedSeries: 32)
        let body = Array((0..<500).map { "m,host=h\($0) value=\($0) \(Self.ms)\n" }.joined().utf8)
        for _ in 0..<2 {
            var parsed = try builder.parse(body, precision: .ms, now: Self.now)
            try await db.append(try builder.seal(&parsed, db: db))
        }
        #expect(db.seriesCount == 500)
        #expect(builder.cache.footprint.series <= 32)
        let series = try db.query(Query(metric: "m")).series
        #expect(series.count == 500)
        #expect(series.allSatisfy { $0.values == [Double($0.labels["host"]?.dropFirst() ?? "") ?? -1] })
        try await db.close()
    }

    /// Refs cached for another database (as after retention dropped a series) are refused
    /// with `unknownSeries`; after `invalidate()` the same body resolves afresh.
    @Test func staleRefsResolveAfresh() async throws {
        let dirTemp = TempDir("ingest-lp-batch-stale")
        let dir = dirTemp.path
        let first = try await TSDB.open(TSDBOptions(directory: dir + "/a"))
        let second = try await TSDB.open(TSDBOptions(directory: dir + "/b"))
        let builder = LineProtocolBatchBuilder()
        let body = Array("a,x=1 value=1 \(Self.ms)\nb,x=2 value=2 \(Self.ms)\n".utf8)
        var p = try builder.parse(body, precision: .ms, now: Self.now)
        try await first.append(try builder.seal(&p, db: first))
        // `second` knows series 1 only: ref 2 is stale there.
        _ = try second.resolve(Labels(["__name__": "other"]))
        var q = try builder.parse(body, precision: .ms, now: Self.now)
        do {
            _ = try await second.append(try builder.seal(&q, db: second))
            Issue.record("a stale ref should be refused")
        } catch let e as TSDBError {
            guard case .unknownSeries = e else { Issue.record("\(e)"); return }
        }
        builder.invalidate()
        var r = try builder.parse(body, precision: .ms, now: Self.now)
        #expect(try await second.append(try builder.seal(&r, db: second)).appended == 2)
        #expect(try second.query(Query(metric: "b")).series.first?.values == [2])
        try await first.close()
        try await second.close()
    }

    /// ``CachedBatchBuilder/append(_:to:reparse:)``: a stale ref is refused by the engine,
    /// the cache cleared and the body parsed and appended again, once.
    @Test func appendReparsesOnceAfterAStaleRef() async throws {
        let dirTemp = TempDir("ingest-lp-batch-retry")
        let first = try await TSDB.open(TSDBOptions(directory: dirTemp.path + "/a"))
        let second = try await TSDB.open(TSDBOptions(directory: dirTemp.path + "/b"))
        let builder = LineProtocolBatchBuilder()
        let body = Array("a,x=1 value=1 \(Self.ms)\nb,x=2 value=2 \(Self.ms)\n".utf8)
        var p = try builder.parse(body, precision: .ms, now: Self.now)
        #expect(try await builder.append(&p, to: first) { try builder.parse(body, precision: .ms, now: Self.now) }.appended == 2)
        _ = try second.resolve(Labels(["__name__": "other"]))
        var reparses = 0
        var q = try builder.parse(body, precision: .ms, now: Self.now)
        let result = try await builder.append(&q, to: second) {
            reparses += 1
            return try builder.parse(body, precision: .ms, now: Self.now)
        }
        #expect(reparses == 1)
        #expect(result.appended == 2)
        #expect(try second.query(Query(metric: "b")).series.first?.values == [2])
        try await first.close()
        try await second.close()
    }

    /// Seeded corruption of a body whose series are all cached (so lines take the quick
    /// path that scans only the field set): lines, samples and errors are the parser's,
    /// with bad lines refused and skipped, so a cache hit skips no check a line must pass.
    @Test func cachedLinesMatchTheParserUnderCorruption() async throws {
        let dir = temporaryDirectory("lp-batch-corrupt")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let db = try await TSDB.open(TSDBOptions(directory: dir))
        let seed: UInt64 = 0x5EED_0113
        var rng = SeededGenerator(seed: seed)
        let base = Array("""
            m,host=a\\ b,model=H100\\ 80GB value=1,other=2i \(Self.ms)
            m,host=a\\\\,x=1 value=3 \(Self.ms)
            m2\\ x,t=\\\\\\ y value=4,s="str" \(Self.ms)
            m3 value=5
            """.utf8)
        let warm = LineProtocolBatchBuilder()
        var p = try warm.parse(base, precision: .ms, now: Self.now)
        _ = try warm.seal(&p, db: db)
        let same = try warm.parse(base, precision: .ms, now: Self.now)
        #expect(same.batch.refs.allSatisfy { $0 != 0 } && same.batch.count == 5)
        var checked = 0
        for _ in 0..<3_000 {
            // Line protocol's own syntax bytes (space, backslash, comma, =, quote, newline, …).
            let bytes: [UInt8] = [0x20, 0x5C, 0x2C, 0x3D, 0x22, 0x0A, 0x69, 0x31, 0x23]
            let body = rng.corrupt(base, maxEdits: 2, whenEmpty: 0x0A) { bytes[Int($0.next() % UInt64(bytes.count))] }
            for mode in [LineProtocolParser.BadLines.refuse, .skip] {
                let a = Result { () throws(LineProtocolError) in try LineProtocolParser.parse(body, precision: .ms, now: Self.now, badLines: mode) }
                let b = Result { () throws(LineProtocolError) in try warm.parse(body, precision: .ms, now: Self.now, badLines: mode) }
                switch (a, b) {
                case (.success(let x), .success(var y)):
                    #expect(x.lines == y.lines && x.badLines == y.badLines && x.skippedStringFields == y.skippedStringFields, "seed \(seed)")
                    guard x.samples.allSatisfy({ $0.labels.metric != nil }) else { continue }
                    let refs = try db.resolve(x.samples.map(\.labels))
                    #expect(try warm.seal(&y, db: db).refs == refs.map(\.id), "seed \(seed)")
                    #expect(y.batch.timestamps == x.samples.map(\.timestamp), "seed \(seed)")
                    #expect(y.batch.values.map(\.bitPattern) == x.samples.map(\.value.bitPattern), "seed \(seed)")
                    checked += 1
                case (.failure(let x), .failure(let y)):
                    #expect(x == y, "seed \(seed)")
                    checked += 1
                default:
                    Issue.record("seed \(seed): parser \(a), builder \(b)")
                }
            }
        }
        #expect(checked == 6_000)
        try await db.close()
    }
}
