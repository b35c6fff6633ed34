import Foundation
import Testing
import TSDB

/// The telemetry page decodes what it returns (the planner narrows the window, issue 12);
/// paging a long window of several metrics that share timestamps still returns every sample
/// once, in order, across cursor ties.
@Suite struct TelemetryPageTests {
    static let uuid = "GPU-long-window"
    static let samples = 4_000
    static let metrics = ["DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_POWER_USAGE", "DCGM_FI_DEV_GPU_TEMP"]

    @Test func pagesOfALongWindowJoinToTheWholeWindow() async throws {
        try await TestServer.with(ingestSample: false, options: { $0.samplesPerChunk = 128 }) { server in
            var batch: [LabeledSample] = []
            for metric in Self.metrics {
                let labels = Labels(["__name__": metric, "UUID": Self.uuid, "Hostname": "node-1", "gpu": "0"])
                for i in 0..<Self.samples {
                    batch.append(LabeledSample(labels: labels, timestamp: 1_752_871_354_000_000_000 + Int64(i) * 1_000_000_000, value: Double(i)))
                }
            }
            try await server.db.append(batch)
            _ = try await server.db.flush()

            let two = "metric=\(Self.metrics[0])&metric=\(Self.metrics[1])"
            var joined: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let reply = try await server.get("/api/v1/gpus/\(Self.uuid)/telemetry?\(two)&limit=1000" + (cursor.map { "&cursor=\(encode($0))" } ?? ""))
                #expect(reply.status == 200)
                let page = try reply.object()
                let data = page["data"] as? [[String: Any]] ?? []
                for item in data { joined.append("\(item["timestamp"] ?? "")|\(item["metric"] ?? "")") }
                cursor = page["next_cursor"] as? String
                pages += 1
                if cursor != nil { #expect(data.count == 1_000) }
            } while cursor != nil && pages < 100
            #expect(pages == 8)
            #expect(joined.count == 2 * Self.samples)
            #expect(Set(joined).count == joined.count, "no sample twice")
            let times = joined.map { $0.split(separator: "|")[0] }
            #expect(times == times.sorted())
            #expect(!joined.contains { $0.hasSuffix(Self.metrics[2]) })

            // The page's own query, as the route builds it: about 1,000 samples decoded.
            var q = Query(matchers: [try LabelMatcher("UUID", .equal, Self.uuid)])
            q.metrics = Array(Self.metrics.prefix(2))
            q.earliestSamples = 1_001
            let r = try server.db.query(q)
            #expect(r.stats.samplesScanned <= 1_001 + 2 + 2 * 128)
            let whole = try server.db.query(Query(metric: Self.metrics[0]))
            #expect(whole.stats.samplesScanned == Self.samples)
        }
    }
}
