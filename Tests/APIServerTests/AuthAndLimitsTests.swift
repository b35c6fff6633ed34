import APIServer
import TSDB
import Foundation
import Testing

@Suite struct AuthAndLimitsTests {
    @Test func keysByBothHeadersAndRotation() async throws {
        try await TestServer.with(config: TestServer.config(keys: ["old-key", "new-key"]), ingestSample: false) { server in
            let none = try await server.get("/api/v1/gpus", headers: [])
            #expect(none.status == 401)
            #expect(try none.errorCode() == "unauthorized")
            #expect(try await server.get("/api/v1/gpus", headers: [("X-API-Key", "old-key")]).status == 200)
            #expect(try await server.get("/api/v1/gpus", headers: [("X-API-Key", "new-key")]).status == 200)
            #expect(try await server.get("/api/v1/gpus", headers: [("Authorization", "Bearer new-key")]).status == 200)
            #expect(try await server.get("/api/v1/gpus", headers: [("Authorization", "bearer old-key")]).status == 200)
            #expect(try await server.get("/api/v1/gpus", headers: [("X-API-Key", "wrong")]).status == 401)
            #expect(try await server.get("/api/v1/gpus", headers: [("Authorization", "Bearer new-keyx")]).status == 401)
            // Wrong scheme is refused, not ignored.
            let basic = Data("user:new-key".utf8).base64EncodedString()
            #expect(try await server.get("/api/v1/gpus", headers: [("Authorization", "Basic \(basic)")]).status == 401)
            #expect(try await server.get("/api/v1/gpus", headers: [("Authorization", "Token new-key")]).status == 401)
            #expect(try await server.get("/api/v1/gpus", headers: [("Authorization", "new-key")]).status == 401)
            // Grafana, writes and unknown API paths need the key too; public endpoints do not.
            #expect(try await server.post("/grafana/search", "{}", headers: []).status == 401)
            #expect(try await server.post("/telemetry", "{}", headers: []).status == 401)
            #expect(try await server.get("/api/v1/unknown", headers: []).status == 401)
            #expect(try await server.get("/health", headers: []).status == 200)
            #expect(try await server.get("/ready", headers: []).status == 200)
            #expect(try await server.get("/openapi.json", headers: []).status == 200)
            let metrics = try await server.get("/metrics", headers: [])
            #expect(metrics.status == 200)
            #expect(metrics.text.contains("http_requests_total"))
            #expect(metrics.text.contains("route=\"/api/v1/gpus\""))
            // InfluxDB's Token scheme only on the InfluxDB write paths.
            #expect(try await server.post("/write", "m value=1 1", contentType: "text/plain", headers: [("Authorization", "Token new-key")]).status == 204)
        }
    }

    @Test func refusesToStartWithoutKeys() throws {
        var config = APIServerConfig()
        config.apiKeys = []
        #expect(throws: APIConfigError.self) { try config.validate() }
        config.insecureNoAuth = true
        try config.validate()
    }

    @Test func rateLimitAnswers429WithRetryAfter() async throws {
        var config = TestServer.config()
        // A token every 100 s: the third request is limited however slow a loaded machine is.
        config.rateLimitPerSecond = 0.01
        config.rateLimitBurst = 2
        try await TestServer.with(config: config, ingestSample: false) { server in
            #expect(try await server.get("/api/v1/hosts").status == 200)
            #expect(try await server.get("/api/v1/hosts").status == 200)
            let limited = try await server.get("/api/v1/hosts")
            #expect(limited.status == 429)
            #expect(try limited.errorCode() == "rate_limited")
            #expect(Int(limited.header("Retry-After") ?? "") ?? 0 >= 1)
            // Public endpoints are not limited.
            #expect(try await server.get("/health").status == 200)
        }
    }

    @Test func bodyLimitAnswers413() async throws {
        var config = TestServer.config()
        config.maxBodyBytes = 1000
        try await TestServer.with(config: config, ingestSample: false) { server in
            let big = String(repeating: "m value=1 1\n", count: 200)
            let r = try await server.post("/api/v1/write", big, contentType: "text/plain")
            #expect(r.status == 413)
            #expect(try r.errorCode() == "payload_too_large")
        }
    }

    @Test func corsPreflightAndHeaders() async throws {
        var config = TestServer.config()
        config.corsOrigins = ["http://grafana.local"]
        try await TestServer.with(config: config, ingestSample: false) { server in
            let preflight = try await server.request("/api/v1/gpus", method: .OPTIONS, headers: [
                ("Origin", "http://grafana.local"), ("Access-Control-Request-Method", "GET"),
            ])
            #expect(preflight.status == 204)
            #expect(preflight.header("Access-Control-Allow-Origin") == "http://grafana.local")
            let denied = try await server.request("/api/v1/gpus", method: .OPTIONS, headers: [
                ("Origin", "http://evil.local"), ("Access-Control-Request-Method", "GET"),
            ])
            #expect(denied.status == 403)
            let get = try await server.get("/api/v1/gpus", headers: [("X-API-Key", "test-key"), ("Origin", "http://grafana.local")])
            #expect(get.header("Access-Control-Allow-Origin") == "http://grafana.local")
            let delete = try await server.request("/api/v1/gpus", method: .DELETE, headers: [("X-API-Key", "test-key"), ("Origin", "http://grafana.local")])
            #expect(delete.status == 405)
            #expect(delete.header("Access-Control-Allow-Origin") == "http://grafana.local")
            let anonymous = try await server.get("/api/v1/gpus", headers: [("Origin", "http://grafana.local")])
            #expect(anonymous.status == 401)
            #expect(anonymous.header("Access-Control-Allow-Origin") == "http://grafana.local")
        }
    }
}

@Suite struct QueryLimitTests {
    @Test func queryOverALimitIs422NamingIt() async throws {
        var config = TestServer.config()
        config.queryLimits = QueryLimits(maxSeries: 5, maxSamples: 1_000_000)
        try await TestServer.with(config: config) { server in
            let r = try await server.get("/api/v1/query?metric=DCGM_FI_DEV_GPU_UTIL")
            #expect(r.status == 422)
            #expect(try r.errorCode() == "query_limit_exceeded")
            #expect(r.text.contains("max_series"))
            let narrow = try await server.get("/api/v1/query?metric=DCGM_FI_DEV_GPU_UTIL&match%5B%5D=" + encode(#"{Hostname="mtv5-dgx1-hgpu-031",gpu=~"0|1"}"#))
            #expect(narrow.status == 200)
            #expect(try narrow.object()["count"] as? Int == 2)
            let tiny = try await server.get("/api/v1/query?metric=DCGM_FI_DEV_GPU_UTIL&match%5B%5D=gpu%3D%220%22&limit=1")
            #expect(tiny.status == 422)
            let steps = try await server.get("/api/v1/query?metric=x&start=0&end=1752871354&step=1ms")
            #expect(steps.status == 422)
            #expect(steps.text.contains("max_result_bytes"))
            let explain = try await server.get("/api/v1/query/explain?metric=DCGM_FI_DEV_GPU_UTIL&match%5B%5D=" + encode(#"Hostname="mtv5-dgx1-hgpu-012""#))
            #expect(explain.status == 200)
            #expect(try explain.object()["series_matched"] as? Int == 7)
            #expect(try await server.get("/api/v1/query?match%5B%5D=" + encode("gpu=~\"(\"")).status == 400)

            _ = try await server.post("/write", "m value=1 1", contentType: "text/plain")
            let metrics = try await server.get("/metrics", headers: []).text
            #expect(metrics.contains("api_samples_written_total 1"))
            #expect(metrics.contains("http_request_duration_seconds_bucket"))
        }
    }
}
