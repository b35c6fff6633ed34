import Foundation
import Ingest
import Testing
import TSDB

/// The engine's new-series limits through every HTTP write path on 127.0.0.1:0: a series
/// over a per-series limit is 400 naming the limit and flag and stores nothing; the hourly
/// budget is 429 with `Retry-After`.
@Suite struct SeriesLimitsHTTPTests {
    func count(_ server: TestServer, _ metric: String) async throws -> Int {
        let q = try await server.get("/api/v1/query?metric=\(metric)").object()
        return (q["series"] as? [[String: Any]])?.count ?? -1
    }

    @Test func overLimitSeriesRefuseTheWholeRequestOnEveryPath() async throws {
        var config = TestServer.config()
        config.serviceToken = "svc-token"
        try await TestServer.with(config: config, ingestSample: false, options: { $0.seriesLimits.maxLabelsPerSeries = 3 }) { server in
            // Line protocol (ours, InfluxDB 2 and 1.x, whose error bodies speak Influx's dialect):
            // the good first line is not stored either.
            let lp = "lim,host=a value=1 1752871354\nlim,host=a,gpu=0,extra=x value=2 1752871354\n"
            for path in ["/api/v1/write?precision=s", "/api/v2/write?precision=s", "/write?precision=s"] {
                let r = try await server.post(path, lp, contentType: "text/plain")
                #expect(r.status == 400, "\(path): \(r.text)")
                #expect(r.text.contains("--max-labels-per-series") && r.text.contains("4 labels, over the limit of 3")
                        && r.text.contains("nothing from this request was stored"), "\(r.text)")
                #expect(r.header("X-Samples-Written") == "0")
                if path.hasPrefix("/api/v1") { #expect(try r.errorCode() == "series_limit_exceeded") }
            }
            // JSON.
            let json = #"[{"metric":"lim","value":1,"time":1752871354},{"metric":"lim","value":2,"time":1752871354,"uuid":"GPU-a","hostname":"h","gpu_id":"0"}]"#
            let j = try await server.post("/telemetry", json)
            #expect(j.status == 400 && j.text.contains("--max-labels-per-series"), "\(j.text)")
            #expect(try await count(server, "lim") == 0)
            // DCGM CSV, on the public and the collector's internal path.
            let csv = try String(contentsOfFile: TestServer.samplePath, encoding: .utf8).split(separator: "\n").prefix(3).joined(separator: "\n") + "\n"
            for (path, auth) in [("/api/v1/write", ("X-API-Key", "test-key")), ("/internal/v1/write", ("Authorization", "Bearer svc-token"))] {
                let c = try await server.post(path, csv, contentType: "text/csv", headers: [auth])
                #expect(c.status == 400 && c.text.contains("series_limit_exceeded") && c.text.contains("--max-labels-per-series"), "\(path): \(c.text)")
            }
            // Prometheus remote_write: 400 (Prometheus drops the batch instead of retrying it).
            let rw = try await server.request("/prometheus/api/v1/write", method: .POST, headers: RemoteWriteHTTPTests.remoteWriteHeaders,
                                              body: RemoteWriteHTTPTests.dcgmRequest(), contentType: "application/x-protobuf")
            #expect(rw.status == 400 && rw.text.contains("--max-labels-per-series"), "\(rw.text)")
            #expect(try server.db.stats().series == 0)
            // Within the limit the same line stores.
            let ok = try await server.post("/api/v2/write?precision=s", "lim,host=a value=1 1752871354\n", contentType: "text/plain")
            #expect(ok.status == 204 && ok.header("X-Samples-Written") == "1", "\(ok.text)")
        }
    }

    @Test func labelLengthsAndNewSeriesPerRequest() async throws {
        try await TestServer.with(ingestSample: false, options: {
            $0.seriesLimits.maxLabelValueLength = 8
            $0.seriesLimits.maxLabelNameLength = 8
            $0.seriesLimits.maxNewSeriesPerRequest = 2
        }) { server in
            let long = try await server.post("/api/v2/write?precision=s", "lim,host=abcdefghi value=1 1752871354\n", contentType: "text/plain")
            #expect(long.status == 400 && long.text.contains("--max-label-value-length") && long.text.contains("9 bytes, over the limit of 8"), "\(long.text)")
            let name = try await server.post("/api/v2/write?precision=s", "lim,hostname1=a value=1 1752871354\n", contentType: "text/plain")
            #expect(name.status == 400 && name.text.contains("--max-label-name-length"), "\(name.text)")
            let three = "lim,g=0 value=1 1752871354\nlim,g=1 value=1 1752871354\nlim,g=2 value=1 1752871354\n"
            let many = try await server.post("/api/v2/write?precision=s", three, contentType: "text/plain")
            #expect(many.status == 400 && many.text.contains("--max-new-series-per-request") && many.text.contains("3 new series, over the limit of 2"), "\(many.text)")
            #expect(try await count(server, "lim") == 0)
        }
    }

    @Test func hourlyBudgetIs429WithRetryAfterAndKnownSeriesStillWrite() async throws {
        try await TestServer.with(ingestSample: false, options: { $0.seriesLimits.maxNewSeriesPerHour = 2 }) { server in
            let first = try await server.post("/api/v1/write?precision=s", "lim,g=0 value=1 1752871354\nlim,g=1 value=1 1752871354\n", contentType: "text/plain")
            #expect(first.status == 204, "\(first.text)")
            let over = try await server.post("/api/v1/write?precision=s", "lim,g=0 value=2 1752871355\nlim,g=2 value=2 1752871355\n", contentType: "text/plain")
            #expect(over.status == 429, "\(over.text)")
            #expect(try over.errorCode() == "new_series_budget_exhausted")
            #expect(over.text.contains("--max-new-series-per-hour") && over.text.contains("nothing from this request was stored"), "\(over.text)")
            let retry = try #require(over.header("Retry-After").flatMap { Int($0) })
            #expect((1...3600).contains(retry))
            #expect(over.header("X-Samples-Written") == "0")
            let q = try await server.get("/api/v1/query?metric=lim").object()
            let values = ((q["series"] as? [[String: Any]]) ?? []).compactMap { $0["values"] as? [Double] }
            #expect(values == [[1], [1]], "the refused request stored nothing, not even the known series' sample")
            let known = try await server.post("/api/v1/write?precision=s", "lim,g=0 value=3 1752871356\n", contentType: "text/plain")
            #expect(known.status == 204 && known.header("X-Samples-Written") == "1", "\(known.text)")
        }
    }

    /// The hourly budget refuses the whole request in every write dialect with the same facts:
    /// 429 (a status every sender retries: Prometheus, Telegraf, the Influx clients, our
    /// collector), `Retry-After`, `X-Samples-Written: 0`, the flag in the message in the
    /// dialect's error shape, and nothing stored.
    @Test func hourlyBudgetRefusalSaysNothingWasStoredInEveryDialect() async throws {
        var config = TestServer.config()
        config.serviceToken = "svc-token"
        try await TestServer.with(config: config, ingestSample: false, options: { $0.seriesLimits.maxNewSeriesPerHour = 1 }) { server in
            let first = try await server.post("/api/v2/write?precision=s", "spent value=1 1752871354\n", contentType: "text/plain")
            #expect(first.status == 204, "\(first.text)")
            let csv = try String(contentsOfFile: TestServer.samplePath, encoding: .utf8).split(separator: "\n").prefix(3).joined(separator: "\n") + "\n"
            let key = ("X-API-Key", "test-key")
            let cases: [(name: String, path: String, body: [UInt8], type: String, headers: [(String, String)])] = [
                ("native JSON", "/telemetry", Array(#"{"metric":"budget_json","value":1,"time":1752871354}"#.utf8), "application/json", [key]),
                ("NDJSON", "/api/v1/write", Array("{\"metric\":\"budget_nd\",\"value\":1}\n".utf8), "application/x-ndjson", [key]),
                ("line protocol", "/api/v1/write?precision=s", Array("spent value=2 1752871355\nbudget_lp value=1 1752871355\n".utf8), "text/plain", [key]),
                ("DCGM CSV", "/api/v1/write", Array(csv.utf8), "text/csv", [key]),
                ("collector CSV", "/internal/v1/write", Array(csv.utf8), "text/csv", [("Authorization", "Bearer svc-token")]),
                ("InfluxDB 1.x", "/write?precision=s", Array("spent value=2 1752871355\nbudget_v1 value=1 1752871355\n".utf8), "text/plain", [key]),
                ("InfluxDB 2.x", "/api/v2/write?precision=s", Array("budget_v2 value=1 1752871355\n".utf8), "text/plain", [key]),
                ("remote_write", "/prometheus/api/v1/write", RemoteWriteHTTPTests.dcgmRequest(), "application/x-protobuf", RemoteWriteHTTPTests.remoteWriteHeaders),
                ("remote_write (push)", "/api/v1/push", RemoteWriteHTTPTests.dcgmRequest(), "application/x-protobuf", RemoteWriteHTTPTests.remoteWriteHeaders),
                ("remote_write (VictoriaMetrics path)", "/api/v1/write", RemoteWriteHTTPTests.dcgmRequest(), "application/x-protobuf", RemoteWriteHTTPTests.remoteWriteHeaders),
            ]
            for c in cases {
                let r = try await server.request(c.path, method: .POST, headers: c.headers, body: c.body, contentType: c.type)
                #expect(r.status == 429, "\(c.name): \(r.status) \(r.text)")
                let retry = r.header("Retry-After").flatMap { Int($0) }
                #expect(retry.map { (1...3600).contains($0) } == true, "\(c.name): Retry-After \(String(describing: r.header("Retry-After")))")
                #expect(r.header("X-Samples-Written") == "0", "\(c.name)")
                #expect(r.text.contains("--max-new-series-per-hour") && r.text.contains("nothing from this request was stored"), "\(c.name): \(r.text)")
                let body = try r.object()
                switch c.path {
                case let p where p.hasPrefix("/write"):
                    #expect(body["error"] is String && r.header("X-Influxdb-Error")?.contains("--max-new-series-per-hour") == true, "\(c.name): \(r.text)")
                case let p where p.hasPrefix("/api/v2/write"):
                    #expect(body["code"] as? String == "too many requests", "\(c.name): \(r.text)")
                default:
                    #expect(try r.errorCode() == "new_series_budget_exhausted", "\(c.name): \(r.text)")
                }
            }
            // Nothing of any refused request was stored, not even the known series' sample.
            #expect(try server.db.stats().series == 1)
            let q = try await server.get("/api/v1/query?metric=spent").object()
            let values = ((q["series"] as? [[String: Any]]) ?? []).compactMap { $0["values"] as? [Double] }
            #expect(values == [[1]], "\(values)")
        }
    }
}
