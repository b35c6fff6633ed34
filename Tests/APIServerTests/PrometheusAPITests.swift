import Foundation
import Testing
import TSDB

/// The Prometheus HTTP API under /prometheus/api/v1 on a real server over loopback: shapes,
/// GET and POST forms, error types and status codes, and that the API key guards it.
@Suite struct PrometheusAPITests {
    static let t0: Int64 = 1_700_000_000_000 // ms

    static func load(_ db: TSDB) async throws {
        var samples: [LabeledSample] = []
        for k in 0..<20 {
            let t = (t0 + Int64(k) * 15_000) * 1_000_000
            for (gpu, util) in [("0", 3.0), ("1", 97.5)] {
                samples.append(LabeledSample(labels: Labels(["__name__": "DCGM_FI_DEV_GPU_UTIL", "gpu": gpu, "Hostname": "h1", "pod": "p\(gpu)"]),
                                             timestamp: t, value: util))
            }
        }
        _ = try await db.append(samples)
    }

    @Test func query_shapes_get_and_post() async throws {
        try await TestServer.with(ingestSample: false) { server in
            try await Self.load(server.db)
            let health = try await server.get("/prometheus/api/v1/query?query=" + encode("1+1") + "&time=1700000000.5")
            #expect(health.status == 200)
            #expect(health.text == #"{"status":"success","data":{"resultType":"scalar","result":[1700000000.500,"2"]}}"#)

            let idle = try await server.post("/prometheus/api/v1/query", "query=" + encode(#"DCGM_FI_DEV_GPU_UTIL{pod!=""} < 5"#) + "&time=1700000100",
                                             contentType: "application/x-www-form-urlencoded")
            #expect(idle.status == 200)
            let data = try #require(try idle.object()["data"] as? [String: Any])
            #expect(data["resultType"] as? String == "vector")
            let result = try #require(data["result"] as? [[String: Any]])
            #expect(result.count == 1)
            #expect((result.first?["metric"] as? [String: String])?["gpu"] == "0")
            #expect((result.first?["value"] as? [Any])?.last as? String == "3")

            let range = try await server.get("/prometheus/api/v1/query_range?query=" + encode("sum(DCGM_FI_DEV_GPU_UTIL)")
                                             + "&start=1700000000&end=1700000060&step=30s")
            #expect(range.status == 200)
            let rdata = try #require(try range.object()["data"] as? [String: Any])
            let rresult = try #require(rdata["result"] as? [[String: Any]])
            let values = try #require(rresult.first?["values"] as? [[Any]])
            #expect(values.count == 3)
            #expect(values.first?.last as? String == "100.5")
        }
    }

    @Test func errors_have_prometheus_shapes() async throws {
        try await TestServer.with(ingestSample: false) { server in
            let bad = try await server.get("/prometheus/api/v1/query?query=" + encode("sum("))
            #expect(bad.status == 400)
            #expect(try bad.object()["errorType"] as? String == "bad_data")
            #expect(try bad.object()["status"] as? String == "error")
            let unsupported = try await server.get("/prometheus/api/v1/query?query=" + encode("max_over_time(x[5m:1m])"))
            #expect(unsupported.status == 422)
            #expect(try unsupported.object()["errorType"] as? String == "execution")
            #expect((try unsupported.object()["error"] as? String)?.contains("subqueries") == true)
            let noStep = try await server.get("/prometheus/api/v1/query_range?query=up&start=1&end=2")
            #expect(noStep.status == 400)
            let noAuth = try await server.get("/prometheus/api/v1/query?query=1", headers: [])
            #expect(noAuth.status == 401)
            // Grafana's Prometheus datasource with "Basic auth": the key as the password.
            let basic = "Basic " + Data("grafana:test-key".utf8).base64EncodedString()
            let withBasic = try await server.get("/prometheus/api/v1/query?query=1", headers: [("Authorization", basic)])
            #expect(withBasic.status == 200)
        }
    }

    @Test func series_labels_and_values() async throws {
        try await TestServer.with(ingestSample: false) { server in
            try await Self.load(server.db)
            let series = try await server.get("/prometheus/api/v1/series?match%5B%5D=" + encode(#"DCGM_FI_DEV_GPU_UTIL{gpu="1"}"#))
            #expect(series.status == 200, "\(series.text)")
            let list = try #require(try series.object()["data"] as? [[String: String]])
            #expect(list.count == 1 && list.first?["pod"] == "p1")
            let inRange = try await server.get("/prometheus/api/v1/series?match%5B%5D=DCGM_FI_DEV_GPU_UTIL&start=1600000000&end=1600000100")
            #expect((try inRange.object()["data"] as? [Any])?.isEmpty == true)
            let labels = try await server.get("/prometheus/api/v1/labels")
            #expect((try labels.object()["data"] as? [String])?.contains("Hostname") == true)
            let values = try await server.get("/prometheus/api/v1/label/gpu/values?match%5B%5D=DCGM_FI_DEV_GPU_UTIL")
            #expect(try values.object()["data"] as? [String] == ["0", "1"])
            let names = try await server.get("/prometheus/api/v1/label/__name__/values")
            #expect(try names.object()["data"] as? [String] == ["DCGM_FI_DEV_GPU_UTIL"])
            // With a window and no match[]: the names and values of the series with samples in it.
            let before = try await server.get("/prometheus/api/v1/labels?start=1600000000&end=1600000100")
            #expect(try before.object()["data"] as? [String] == [])
            let during = try await server.get("/prometheus/api/v1/labels?start=1700000000&end=1700000300")
            #expect(try during.object()["data"] as? [String] == ["Hostname", "__name__", "gpu", "pod"])
            let podsBefore = try await server.get("/prometheus/api/v1/label/pod/values?start=1600000000&end=1600000100")
            #expect(try podsBefore.object()["data"] as? [String] == [])
            let pods = try await server.get("/prometheus/api/v1/label/pod/values?end=1700000300")
            #expect(try pods.object()["data"] as? [String] == ["p0", "p1"])
            // With match[] (answered from the series' pair ids): one selector, a union, a window.
            let gpu1Names = try await server.get("/prometheus/api/v1/labels?match%5B%5D=" + encode(#"DCGM_FI_DEV_GPU_UTIL{gpu="1"}"#))
            #expect(try gpu1Names.object()["data"] as? [String] == ["Hostname", "__name__", "gpu", "pod"])
            let union = "match%5B%5D=" + encode(#"{pod="p0"}"#) + "&match%5B%5D=" + encode(#"{gpu="1"}"#)
            let podsOfUnion = try await server.get("/prometheus/api/v1/label/pod/values?" + union)
            #expect(try podsOfUnion.object()["data"] as? [String] == ["p0", "p1"])
            let podsOfOne = try await server.get("/prometheus/api/v1/label/pod/values?match%5B%5D=" + encode(#"{gpu="1"}"#) + "&end=1700000300")
            #expect(try podsOfOne.object()["data"] as? [String] == ["p1"])
            let podsEarly = try await server.get("/prometheus/api/v1/label/pod/values?" + union + "&start=1600000000&end=1600000100")
            #expect(try podsEarly.object()["data"] as? [String] == [])
            let seriesOfUnion = try await server.get("/prometheus/api/v1/series?" + union + "&match%5B%5D=" + encode(#"{pod="p1"}"#))
            #expect((try seriesOfUnion.object()["data"] as? [[String: String]])?.map { $0["gpu"] ?? "" } == ["0", "1"])
            // Windows past Int64 nanoseconds (the year 10000; 292 million years back) answer,
            // empty or whole, instead of overflowing (a release build trapped on these).
            for (query, expected) in [("start=253402300800&end=253402300900", [String]()),
                                      ("end=-9200000000000", []),
                                      ("start=-9200000000000&end=9200000000000", ["Hostname", "__name__", "gpu", "pod"])] {
                for path in ["labels", "label/__name__/values?match%5B%5D=" + encode(#"{__name__=~".+"}"#), "series?match%5B%5D=DCGM_FI_DEV_GPU_UTIL"] {
                    let reply = try await server.get("/prometheus/api/v1/" + path + (path.contains("?") ? "&" : "?") + query)
                    #expect(reply.status == 200, "\(path) \(query): \(reply.text)")
                    let data = try reply.object()["data"] as? [Any]
                    #expect(data?.isEmpty == expected.isEmpty, "\(path) \(query): \(reply.text)")
                    if path == "labels" { #expect(data as? [String] == expected, "\(query)") }
                }
            }
            let missing = try await server.get("/prometheus/api/v1/series")
            #expect(missing.status == 400)
            #expect(try await server.get("/prometheus/api/v1/status/buildinfo").status == 200)
            #expect(try await server.get("/prometheus/api/v1/metadata").text == #"{"status":"success","data":{}}"#)
        }
    }
}
