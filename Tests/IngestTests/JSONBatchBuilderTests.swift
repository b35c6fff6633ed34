import Foundation
import Testing
import TSDB
@testable import Ingest

/// JSON samples decoded into a batch (``JSONBatchBuilder``): the samples, series and errors
/// of ``JSONSamples/decode(_:now:)`` and ``JSONSamples/decodeNDJSON(_:now:)``, known series
/// found by their label fields' bytes without new catalog rows, and recovery from stale refs.
@Suite("JSON samples batch builder")
struct JSONBatchBuilderTests {
    static let now = WallClock.nanos()

    /// Field order, aliases, numeric label values, `labels`, `labels_raw`, nulls, empty
    /// values and repeated keys (the last wins) — each a way two objects name one series or two.
    static let objects = [
        #"{"metric":"DCGM_FI_DEV_GPU_UTIL","value":7,"uuid":"GPU-1","gpu_id":0,"hostname":"h1","time":1752846150}"#,
        #"{"hostname":"h1","gpu_id":"0","value":"8","metric":"DCGM_FI_DEV_GPU_UTIL","uuid":"GPU-1","time":"2025-07-18T13:42:31Z"}"#,
        #"{"metric_name":"DCGM_FI_DEV_GPU_TEMP","value":41.5,"UUID":"GPU-1","labels":{"a":"bc"},"timestamp":1752846150000}"#,
        #"{"metric_name":"DCGM_FI_DEV_GPU_TEMP","value":42.5,"UUID":"GPU-1","labels":{"ab":"c"}}"#,
        #"{"metric":"m","value":true,"labels_raw":"k1=\"v1\",k2=\"v2\"","pod":null,"namespace":""}"#,
        #"{"metric":"m","value":false,"labels_raw":"k1=\"v1\",k2=\"v2\"","pod":"p","pod":null}"#,
        #"{"__name__":"m2","value":1e3,"labels":{"n":12,"f":1.5,"b":true},"device":"nvidia0"}"#,
    ]

    static func expected(_ samples: [LabeledSample], db: TSDB) throws -> SampleBatch {
        let refs = try db.resolve(samples.map(\.labels))
        var b = SampleBatch()
        for (i, s) in samples.enumerated() { b.append(refs[i], s.timestamp, s.value) }
        return b
    }

    static func same(_ a: SampleBatch, _ b: SampleBatch) -> Bool {
        a.refs == b.refs && a.timestamps == b.timestamps && a.values.map(\.bitPattern) == b.values.map(\.bitPattern)
    }

    @Test("an array and NDJSON give the plain decoder's samples under the same refs, then from the cache",
          arguments: [false, true])
    func sameAsPlainDecode(ndjson: Bool) async throws {
        let dir = temporaryDirectory("json-batch-same-\(ndjson)")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let db = try await TSDB.open(TSDBOptions(directory: dir))
        let body = Array((ndjson ? Self.objects.joined(separator: "\n") + "\n\n" : "[" + Self.objects.joined(separator: ",\n") + "]").utf8)
        let plain = try ndjson ? JSONSamples.decodeNDJSON(body, now: Self.now) : JSONSamples.decode(body, now: Self.now)
        #expect(plain.count == 7)
        let want = try Self.expected(plain, db: db)
        #expect(Set(want.refs).count == 5, "the two GPU_UTIL objects and the two labels_raw objects are one series each")
        let builder = JSONBatchBuilder()
        var first = try builder.parse(body, ndjson: ndjson, now: Self.now)
        #expect(Self.same(try builder.seal(&first, db: db), want))
        var second = try builder.parse(body, ndjson: ndjson, now: Self.now)
        #expect(second.batch.refs.allSatisfy { $0 != 0 }, "known series come from the cache")
        #expect(Self.same(try builder.seal(&second, db: db), want))
        #expect(db.seriesCount == 5)
        try await db.close()
    }

    /// The errors of the plain decoder, in its order, whether the sample's series is cached or not.
    @Test("bad bodies: the plain decoder's errors, cached series or not")
    func errorsMatchPlainDecode() async throws {
        let dir = temporaryDirectory("json-batch-errors")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let db = try await TSDB.open(TSDBOptions(directory: dir))
        let warm = JSONBatchBuilder()
        var p = try warm.parse(Array(("[" + Self.objects.joined(separator: ",") + "]").utf8), ndjson: false, now: Self.now)
        _ = try warm.seal(&p, db: db)
        let bad = [
            #"{"metric":"DCGM_FI_DEV_GPU_UTIL","value":"x","uuid":"GPU-1","gpu_id":0,"hostname":"h1"}"#,
            #"[{"metric":"m","value":1},{"metric":"","value":1}]"#,
            #"[{"metric":"m","value":1},{"metric":"m","value":1,"time":"yesterday"}]"#,
            #"{"metric":"m","value":1,"labels":{"a":[1]}}"#,
            #"{"metric":"m","value":1,"pod":{"x":1}}"#,
            #"{"metric":"m","value":1,"time":1e300}"#,
            #"{"metric":"m","value":1} {"#,
            #"7"#,
            #"[{"metric":"m","value":1}, 3]"#,
        ]
        for text in bad {
            let body = Array(text.utf8)
            for ndjson in [false, true] {
                let plain = Result { () throws(JSONSampleError) -> [LabeledSample] in
                    if ndjson { return try JSONSamples.decodeNDJSON(body, now: Self.now) }
                    return try JSONSamples.decode(body, now: Self.now)
                }
                guard case .failure(let want) = plain else { Issue.record("\(text) decodes (ndjson \(ndjson))"); continue }
                for builder in [warm, JSONBatchBuilder()] {
                    #expect(throws: want, "\(text)") { try builder.parse(body, ndjson: ndjson, now: Self.now) }
                }
            }
        }
        try await db.close()
    }

    @Test("a stale cached ref is refused by the engine; invalidate() resolves afresh")
    func staleRefsResolveAfresh() async throws {
        let dir = temporaryDirectory("json-batch-stale")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try await TSDB.open(TSDBOptions(directory: dir + "/a"))
        let second = try await TSDB.open(TSDBOptions(directory: dir + "/b"))
        let builder = JSONBatchBuilder()
        let body = Array(#"[{"metric":"a","value":1},{"metric":"b","value":2}]"#.utf8)
        var p = try builder.parse(body, ndjson: false, now: Self.now)
        try await first.append(try builder.seal(&p, db: first))
        _ = try second.resolve(Labels(["__name__": "other"]))
        var q = try builder.parse(body, ndjson: false, now: Self.now)
        await #expect(throws: TSDBError.self) { try await second.append(try builder.seal(&q, db: second)) }
        builder.invalidate()
        var r = try builder.parse(body, ndjson: false, now: Self.now)
        #expect(try await second.append(try builder.seal(&r, db: second)).appended == 2)
        #expect(try second.query(Query(metric: "b")).series.first?.values == [2])
        try await first.close()
        try await second.close()
    }
}
