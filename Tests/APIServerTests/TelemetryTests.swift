import Foundation
import Testing

@Suite struct TelemetryTests {
    static let uuid = "GPU-5fd4f087-86f3-7a43-b711-4771313afc50"

    func allSamples(_ server: TestServer, _ query: String = "") async throws -> [[String: Any]] {
        let page = try await server.get("/api/v1/gpus/\(Self.uuid)/telemetry?limit=100000\(query)").object()
        return try #require(page["data"] as? [[String: Any]])
    }

    @Test func ascendingInclusiveAndPaginated() async throws {
        try await TestServer.with { server in
            let data = try await allSamples(server)
            #expect(data.count > 1)
            let times = data.compactMap { $0["timestamp"] as? String }
            #expect(times.count == data.count)
            #expect(times == times.sorted(), "ascending time order")
            #expect(data.allSatisfy { $0["metric"] is String && $0["value"] is NSNumber && $0["hostname"] as? String == "mtv5-dgx1-hgpu-031" })

            // A window of one instant returns exactly the samples at that instant.
            let instant = times[times.count / 2]
            let expected = data.filter { $0["timestamp"] as? String == instant }
            let window = try await allSamples(server, "&start_time=\(encode(instant))&end_time=\(encode(instant))")
            #expect(window.count == expected.count)
            #expect(window.allSatisfy { $0["timestamp"] as? String == instant })
            // The start/end aliases select the same window.
            let epoch = try await server.get("/api/v1/gpus/\(Self.uuid)/telemetry?start=\(encode(instant))&end=\(encode(instant))").object()
            #expect(epoch["count"] as? Int == expected.count)

            // Metric filter.
            let util = try await allSamples(server, "&metric=DCGM_FI_DEV_GPU_UTIL")
            #expect(!util.isEmpty && util.allSatisfy { $0["metric"] as? String == "DCGM_FI_DEV_GPU_UTIL" })
            let two = try await allSamples(server, "&metric=DCGM_FI_DEV_GPU_UTIL&metric=DCGM_FI_DEV_GPU_TEMP")
            #expect(Set(two.compactMap { $0["metric"] as? String }) == ["DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_GPU_TEMP"])
            let commas = try await allSamples(server, "&metric=DCGM_FI_DEV_GPU_UTIL,DCGM_FI_DEV_GPU_TEMP")
            #expect(commas.count == two.count)

            // Pages of 3 joined equal the whole list.
            var joined: [String] = []
            var cursor: String?
            var guardCount = 0
            repeat {
                let page = try await server.get("/api/v1/gpus/\(Self.uuid)/telemetry?limit=3" + (cursor.map { "&cursor=\(encode($0))" } ?? "")).object()
                for item in page["data"] as? [[String: Any]] ?? [] {
                    joined.append("\(item["timestamp"] ?? "")|\(item["metric"] ?? "")|\(item["value"] ?? "")")
                }
                cursor = page["next_cursor"] as? String
                guardCount += 1
            } while cursor != nil && guardCount < 1000
            #expect(joined == data.map { "\($0["timestamp"] ?? "")|\($0["metric"] ?? "")|\($0["value"] ?? "")" })

            // Downsampling answers one bucket per series.
            let agg = try await server.get("/api/v1/gpus/\(Self.uuid)/telemetry?step=1h&agg=max&metric=DCGM_FI_DEV_GPU_UTIL")
            #expect(agg.status == 200)
        }
    }

    @Test func parameterErrorsComeBefore404() async throws {
        try await TestServer.with { server in
            let base = "/api/v1/gpus/\(Self.uuid)/telemetry"
            for query in ["start_time=yesterday", "end_time=2025-13-01T00:00:00Z", "start_time=2025-07-18T21:00:00Z&end_time=2025-07-18T20:00:00Z",
                          "limit=0", "limit=x", "step=-5s", "agg=median", "cursor=@@",
                          // Outside Int64 nanoseconds: refused, never wrapped to 1677 (issue 9).
                          "start_time=2262-04-11T23:47:16.9Z", "end_time=9999-12-31T23:59:59Z", "start=99999999999999999999",
                          "step=9999999999w"] {
                let r = try await server.get(base + "?" + query)
                #expect(r.status == 400, "\(query)")
                #expect(try r.errorCode() == "bad_request")
                let unknown = try await server.get("/api/v1/gpus/GPU-nope/telemetry?" + query)
                #expect(unknown.status == 400, "400 before 404 for \(query)")
            }
            #expect(try await server.get("/api/v1/gpus/GPU-nope/telemetry").status == 404)
        }
    }

    @Test func uuidFullOfQuotesIsData() async throws {
        try await TestServer.with { server in
            let hostile = #"GPU-"}, UUID=~".*", x="\"#
            let encoded = encode(hostile)
            // Nothing matches yet: the text must not act as a matcher that selects every GPU.
            #expect(try await server.get("/api/v1/gpus/\(encoded)/telemetry").status == 404)
            #expect(try await server.get("/api/v1/gpus/\(encoded)").status == 404)
            let body = #"{"metric":"DCGM_FI_DEV_GPU_UTIL","value":42,"uuid":"GPU-\"}, UUID=~\".*\", x=\"\\","hostname":"h","time":"2025-07-18T20:42:34Z"}"#
            let write = try await server.post("/telemetry", body)
            #expect(write.status == 204, "\(write.text)")
            let page = try await server.get("/api/v1/gpus/\(encoded)/telemetry").object()
            #expect(page["count"] as? Int == 1)
            #expect(page["uuid"] as? String == hostile)
            let gpu = try await server.get("/api/v1/gpus/\(encoded)").object()
            #expect(gpu["uuid"] as? String == hostile)
        }
    }
}
