import Foundation
import Testing

@Suite struct GrafanaTests {
    @Test func datasourceEndpoints() async throws {
        try await TestServer.with { server in
            #expect(try await server.get("/grafana/").status == 200)
            let query = """
            {"range":{"from":"2025-07-18T20:00:00.000Z","to":"2025-07-18T21:00:00.000Z","raw":{"from":"now-1h","to":"now"}},
             "intervalMs":1000,"maxDataPoints":100,
             "targets":[{"target":"DCGM_FI_DEV_GPU_UTIL","refId":"A","payload":{"hostname":"mtv5-dgx1-hgpu-012","agg":"max"}}],
             "adhocFilters":[{"key":"modelName","operator":"=~","value":"NVIDIA.*"}]}
            """
            let r = try await server.post("/grafana/query", query)
            #expect(r.status == 200, "\(r.text)")
            let series = try #require(try r.array() as? [[String: Any]])
            #expect(series.count == 7)
            for s in series {
                let points = try #require(s["datapoints"] as? [[Any]])
                #expect(!points.isEmpty && points.count <= 101)
                let ms = points.compactMap { ($0.last as? NSNumber)?.int64Value }
                #expect(ms.allSatisfy { $0 >= 1_752_868_800_000 && $0 <= 1_752_872_400_000 })
                #expect(ms == ms.sorted())
                #expect((s["target"] as? String)?.hasPrefix("DCGM_FI_DEV_GPU_UTIL{") == true)
            }
            let grouped = query.replacingOccurrences(of: #""agg":"max"}"#, with: #""agg":"avg","group_by":["Hostname"]}"#)
            let g = try await server.post("/grafana/query", grouped).array()
            #expect(g.count == 1)
            let table = query.replacingOccurrences(of: #""refId":"A","#, with: #""refId":"A","type":"table","#)
            let t = try await server.post("/grafana/query", table).array()
            let tbl = try #require(t.first as? [String: Any])
            #expect(tbl["type"] as? String == "table")
            #expect(((tbl["rows"] as? [[Any]])?.count ?? 0) >= 7)

            let filters = query.replacingOccurrences(of: "adhocFilters", with: "filters").replacingOccurrences(of: "=~", with: "!~")
            #expect(try await server.post("/grafana/query", filters).array().isEmpty)
            #expect(try await server.post("/grafana/query", #"{"targets":[]}"#).status == 400)
            #expect(try await server.post("/grafana/query", #"{"range":{"from":"x","to":"y"}}"#).status == 400)
            #expect(try await server.post("/grafana/query", #"{"range":{"from":"2025-07-18T00:00:00Z","to":"2262-04-11T23:47:16.9Z"},"targets":[{"target":"m"}]}"#).status == 400)
            #expect(try await server.post("/grafana/query", "[1]").status == 400)

            let metrics = try await server.post("/grafana/metrics", "{}").array()
            #expect(metrics.contains { ($0 as? [String: Any])?["value"] as? String == "DCGM_FI_DEV_GPU_UTIL" })
            let options = try await server.post("/grafana/metric-payload-options", #"{"metric":"DCGM_FI_DEV_GPU_UTIL","payload":{},"name":"hostname"}"#).array()
            #expect(options.count == 31)
            let variable = try await server.post("/grafana/variable", #"{"payload":{"target":"hosts"}}"#).array()
            #expect(variable.count == 31)
            let gpusOfHost = try await server.post("/grafana/variable", #"{"payload":{"target":"label_values(gpu)"}}"#)
            #expect(gpusOfHost.status == 200)
            let keys = try await server.post("/grafana/tag-keys", "{}").array()
            #expect(keys.contains { ($0 as? [String: Any])?["text"] as? String == "Hostname" })
            let values = try await server.post("/grafana/tag-values", #"{"key":"Hostname"}"#).array()
            #expect(values.count == 31)
            let search = try await server.post("/grafana/search", #"{"target":"gpu_util"}"#).array()
            #expect(search.contains { $0 as? String == "DCGM_FI_DEV_GPU_UTIL" })
            #expect(try await server.post("/grafana/annotations", "{}").array().isEmpty)
        }
    }

    @Test func openAPIDescribesEveryRoute() async throws {
        try await TestServer.with(ingestSample: false) { server in
            let doc = try await server.get("/openapi.json", headers: []).object()
            #expect(doc["openapi"] as? String == "3.0.3")
            let paths = try #require(doc["paths"] as? [String: Any])
            for path in ["/api/v1/gpus", "/api/v1/gpus/{uuid}", "/api/v1/gpus/{uuid}/telemetry", "/api/v1/gpus/{uuid}/stream",
                         "/api/v1/hosts", "/api/v1/hosts/{hostname}/gpus", "/api/v1/namespaces", "/api/v1/metrics",
                         "/api/v1/query", "/api/v1/query/explain", "/telemetry", "/api/v1/write", "/write", "/api/v2/write",
                         "/internal/v1/write", "/grafana/", "/grafana/query", "/grafana/metrics", "/grafana/metric-payload-options",
                         "/grafana/variable", "/grafana/tag-keys", "/grafana/tag-values", "/grafana/search", "/grafana/annotations",
                         "/health", "/ready", "/metrics", "/docs"] {
                #expect(paths[path] != nil, "\(path) is documented")
            }
            let docs = try await server.get("/docs", headers: [])
            #expect(docs.status == 200)
            #expect(docs.text.contains("openapi.json"))
            #expect(docs.text.contains("swagger-ui-bundle.js"), "the vendored Swagger UI is bundled")
            let js = try await server.get("/docs/swagger-ui-bundle.js", headers: [])
            #expect(js.status == 200)
            #expect(js.header("Content-Type")?.hasPrefix("application/javascript") == true)
            #expect(js.body.count > 500_000)
            #expect(try await server.get("/docs/swagger-ui.css", headers: []).status == 200)
            #expect(try await server.get("/docs/nothing.js", headers: []).status == 404)
        }
    }
}
