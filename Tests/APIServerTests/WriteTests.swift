import Foundation
import Testing

@Suite struct WriteTests {
    @Test func lineProtocolReadsBackExactly() async throws {
        try await TestServer.with(ingestSample: false) { server in
            let lp = """
            # comment
            gpu_power,host=a,gpu=0 value=123.456,temp=61i 1752871354
            gpu_power,host=a,gpu=0 value=0.1,temp=62i 1752871355

            """
            let w = try await server.post("/write?db=x&precision=s", lp, contentType: "text/plain")
            #expect(w.status == 204, "\(w.text)")
            #expect(w.header("X-Samples-Written") == "4")
            let q = try await server.get("/api/v1/query?metric=gpu_power").object()
            let series = try #require((q["series"] as? [[String: Any]])?.first)
            #expect((series["timestamps"] as? [NSNumber])?.map(\.int64Value) == [1_752_871_354_000_000_000, 1_752_871_355_000_000_000])
            #expect((series["values"] as? [Double]) == [123.456, 0.1])
            #expect((series["labels"] as? [String: String]) == ["host": "a", "gpu": "0"])
            let temp = try await server.get("/api/v1/query?match%5B%5D=" + encode("__name__=\"gpu_power_temp\"") + "&time_format=rfc3339").object()
            let t = try #require((temp["series"] as? [[String: Any]])?.first)
            #expect((t["timestamps"] as? [String]) == ["2025-07-18T20:42:34Z", "2025-07-18T20:42:35Z"])
            #expect((t["values"] as? [Double]) == [61, 62])

            let bad = try await server.post("/api/v2/write?precision=ns", "ok value=1 1\nbroken value= 2\n", contentType: "text/plain")
            #expect(bad.status == 400)
            #expect(bad.text.contains("line 2"))
            #expect(try await server.post("/write?precision=weeks", "m value=1", contentType: "text/plain").status == 400)
        }
    }

    @Test func jsonAndNDJSONAndCSV() async throws {
        try await TestServer.with(ingestSample: false) { server in
            let one = #"{"device_id":"nvidia0","metric":"DCGM_FI_DEV_GPU_TEMP","value":"55","time":"2025-07-18T20:42:34Z","gpu_id":"0","uuid":"GPU-a","model_name":"H100","hostname":"h1","labels_raw":"DCGM_FI_DRIVER_VERSION=\"535\",job=\"dcgm\""}"#
            #expect(try await server.post("/telemetry", one).status == 204)
            let arr = #"[{"metric":"DCGM_FI_DEV_GPU_TEMP","value":56,"time":1752871355,"uuid":"GPU-a","hostname":"h1","gpu_id":"0","device_id":"nvidia0","model_name":"H100","labels_raw":"DCGM_FI_DRIVER_VERSION=\"535\",job=\"dcgm\""}]"#
            #expect(try await server.post("/telemetry", arr).status == 204)
            let ndjson = #"{"metric":"x","value":1,"time":1752871355000,"uuid":"GPU-b"}"# + "\n" + #"{"metric":"x","value":2,"time":1752871356000,"uuid":"GPU-b"}"#
            #expect(try await server.post("/api/v1/write", ndjson, contentType: "application/x-ndjson").status == 204)
            let gpu = try await server.get("/api/v1/gpus/GPU-a").object()
            #expect(gpu["hostname"] as? String == "h1")
            let data = try await server.get("/api/v1/gpus/GPU-a/telemetry").object()
            #expect(data["count"] as? Int == 2, "both writes hit one series")
            let b = try await server.get("/api/v1/gpus/GPU-b/telemetry").object()
            #expect(b["count"] as? Int == 2)

            let missingValue = try await server.post("/telemetry", #"[{"metric":"x","value":1},{"metric":"x"}]"#)
            #expect(missingValue.status == 400)
            #expect(missingValue.text.contains("sample 1"))
            #expect(try await server.post("/telemetry", "{not json").status == 400)
            #expect(try await server.post("/telemetry", "{}", contentType: "text/csv").status == 415)

            let csv = """
            timestamp,metric_name,gpu_id,device,uuid,modelName,Hostname,container,pod,namespace,value,labels_raw
            "2025-07-18T20:42:34Z","DCGM_FI_DEV_GPU_UTIL","0","nvidia0","GPU-c","NVIDIA H100 80GB HBM3","h2","","","","7",""

            """
            let w = try await server.post("/api/v1/write", csv, contentType: "text/csv")
            #expect(w.status == 204, "\(w.text)")
            #expect(try await server.get("/api/v1/gpus/GPU-c").status == 200)
        }
    }

    /// Both CSV routes write through the collector's builder: the same row bytes under headers
    /// that order the columns differently are two series, and a bad body stores nothing.
    @Test func csvRoutesKeepSeriesApartAcrossHeaders() async throws {
        try await TestServer.with(ingestSample: false) { server in
            let row = "2026-01-01T00:00:00Z,DCGM_FI_DEV_GPU_UTIL,GPU-a,GPU-b,5\n"
            let first = try await server.post("/api/v1/write", "timestamp,metric_name,uuid,Hostname,value\n" + row, contentType: "text/csv")
            #expect(first.status == 204, "\(first.text)")
            #expect(first.header("X-Samples-Written") == "1")
            #expect(first.header("X-Samples-Rejected") == "0")
            let second = try await server.post("/api/v1/write", "timestamp,metric_name,Hostname,uuid,value\n" + row, contentType: "text/csv")
            #expect(second.status == 204, "\(second.text)")
            #expect(try await server.get("/api/v1/gpus/GPU-a").status == 200)
            #expect(try await server.get("/api/v1/gpus/GPU-b").status == 200)
            let bad = try await server.post("/api/v1/write", "timestamp,metric_name,value\nnot-a-time,m,1\n", contentType: "text/csv")
            #expect(bad.status == 400)
            #expect(bad.text.contains("DCGM CSV"), "\(bad.text)")
            let empty = try await server.post("/api/v1/write", "timestamp,metric_name,value\n", contentType: "text/csv")
            #expect(empty.status == 400)
        }
    }

    @Test func internalWriteNeedsTheServiceToken() async throws {
        var config = TestServer.config()
        config.serviceToken = "svc-token"
        try await TestServer.with(config: config, ingestSample: false) { server in
            let csv = try String(contentsOfFile: TestServer.samplePath, encoding: .utf8)
            #expect(try await server.post("/internal/v1/write", csv, contentType: "text/csv", headers: []).status == 401)
            #expect(try await server.post("/internal/v1/write", csv, contentType: "text/csv", headers: [("X-API-Key", "test-key")]).status == 401)
            let ok = try await server.post("/internal/v1/write", csv, contentType: "text/csv", headers: [("Authorization", "Bearer svc-token")])
            #expect(ok.status == 204, "\(ok.text)")
            #expect(ok.header("X-Samples-Written") == "2470")
            let gpus = try await server.get("/api/v1/gpus?limit=1000").object()
            #expect(gpus["total"] as? Int == 247)
            let bad = try await server.post("/internal/v1/write", "timestamp,metric_name\n1,2\n", contentType: "text/csv", headers: [("Authorization", "Bearer svc-token")])
            #expect(bad.status == 400)
        }
    }
}
