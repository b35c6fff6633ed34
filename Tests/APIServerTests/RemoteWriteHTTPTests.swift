import Foundation
import Ingest
import Testing
import TSDB

/// Prometheus remote_write over real HTTP on 127.0.0.1:0, with the headers Prometheus sends.
@Suite struct RemoteWriteHTTPTests {
    static let remoteWriteHeaders: [(String, String)] = [
        ("X-API-Key", "test-key"), ("Content-Encoding", "snappy"),
        ("X-Prometheus-Remote-Write-Version", "0.1.0"), ("User-Agent", "Prometheus/2.42.0"),
    ]

    /// Two GPUs of one host as dcgm-exporter labels them after a Prometheus scrape.
    static func dcgmRequest(t: Int64 = 1_752_871_354_000) -> [UInt8] {
        var e = RemoteWriteEncoder()
        for gpu in 0..<2 {
            e.series([
                Label("DCGM_FI_DRIVER_VERSION", "535.129.03"), Label("UUID", "GPU-rw-\(gpu)"),
                Label("__name__", "DCGM_FI_DEV_GPU_UTIL"), Label("device", "nvidia\(gpu)"), Label("gpu", "\(gpu)"),
                Label("hostname", "dgx-rw"), Label("instance", "127.0.0.1:9400"), Label("job", "dcgm"),
                Label("modelName", "NVIDIA H100 80GB HBM3"), Label("pci_bus_id", "00000000:0\(gpu):00.0"),
            ], samples: [(t, Double(10 + gpu)), (t + 15_000, Double(20 + gpu))])
        }
        e.series([Label("__name__", "up"), Label("instance", "127.0.0.1:9400"), Label("job", "dcgm")], samples: [(t, 1)])
        e.metadata(family: "DCGM_FI_DEV_GPU_UTIL", help: "GPU utilization (in %).")
        return Snappy.compress(e.bytes)
    }

    func push(_ server: TestServer, _ path: String, _ body: [UInt8], headers: [(String, String)] = remoteWriteHeaders,
              contentType: String? = "application/x-protobuf") async throws -> TestServer.Reply {
        try await server.request(path, method: .POST, headers: headers, body: body, contentType: contentType)
    }

    @Test func samplesLandExactlyAsScrapedAndMakeGPUs() async throws {
        try await TestServer.with(ingestSample: false) { server in
            let w = try await push(server, "/prometheus/api/v1/write", Self.dcgmRequest())
            #expect(w.status == 204, "\(w.text)")
            #expect(w.header("X-Samples-Written") == "5")
            let q = try await server.get("/api/v1/query?metric=DCGM_FI_DEV_GPU_UTIL&match%5B%5D=" + encode("gpu=\"1\"")).object()
            let series = try #require((q["series"] as? [[String: Any]])?.first)
            #expect((series["timestamps"] as? [NSNumber])?.map(\.int64Value) == [1_752_871_354_000_000_000, 1_752_871_369_000_000_000])
            #expect((series["values"] as? [Double]) == [11, 21])
            let labels = try #require(series["labels"] as? [String: String])
            #expect(labels["hostname"] == "dgx-rw" && labels["pci_bus_id"] == "00000000:01:00.0" && labels["job"] == "dcgm")
            #expect(labels["Hostname"] == nil, "labels are stored as sent, not renamed")
            let up = try await server.get("/api/v1/query?metric=up").object()
            #expect((up["series"] as? [[String: Any]])?.count == 1, "series without a GPU are stored too")

            let gpus = try #require(try await server.get("/api/v1/gpus").object()["gpus"] as? [[String: Any]])
            #expect(gpus.compactMap { $0["uuid"] as? String } == ["GPU-rw-0", "GPU-rw-1"])
            #expect(gpus.allSatisfy { $0["hostname"] as? String == "dgx-rw" && $0["model_name"] as? String == "NVIDIA H100 80GB HBM3" })
            #expect(gpus.compactMap { $0["gpu_id"] as? String } == ["0", "1"])
            let hosts = try await server.get("/api/v1/hosts").object()
            #expect(((hosts["hosts"] as? [[String: Any]])?.first?["gpu_count"] as? Int) == 2)
            let telemetry = try await server.get("/api/v1/gpus/GPU-rw-0/telemetry").object()
            #expect(telemetry["count"] as? Int == 2)

            // The same request again is idempotent; /api/v1/push and protobuf to /api/v1/write work too.
            #expect(try await push(server, "/prometheus/api/v1/write", Self.dcgmRequest()).status == 204)
            #expect(try await push(server, "/api/v1/push", Self.dcgmRequest(t: 1_752_871_400_000)).status == 204)
            #expect(try await push(server, "/api/v1/write", Self.dcgmRequest(t: 1_752_871_500_000)).status == 204)
            #expect(server.db.seriesCount == 3)
            let metrics = try await server.get("/metrics", headers: []).text
            #expect(metrics.contains("api_remote_write_samples_total 20"))
            #expect(metrics.contains("api_remote_write_requests_total 4"))
        }
    }

    @Test func metadataOnlyIs204AndBadBodiesAre4xx() async throws {
        try await TestServer.with(ingestSample: false) { server in
            var meta = RemoteWriteEncoder()
            meta.metadata(family: "up", help: "1 when up")
            let m = try await push(server, "/prometheus/api/v1/write", Snappy.compress(meta.bytes))
            #expect(m.status == 204, "\(m.text)")
            #expect(m.header("X-Samples-Written") == "0")

            // Not snappy at all: 400 (Prometheus drops the batch rather than retrying forever).
            let garbage = try await push(server, "/prometheus/api/v1/write", Array("hello".utf8))
            #expect(garbage.status == 400)
            #expect(try garbage.errorCode() == "bad_request")
            // Valid snappy, malformed protobuf.
            let bad = try await push(server, "/api/v1/push", Snappy.compress([0x0A, 0x10, 0x01]))
            #expect(bad.status == 400)
            #expect(bad.text.contains("remote_write"))
            // No metric name.
            var anon = RemoteWriteEncoder()
            anon.series([Label("job", "x")], samples: [(1, 1)])
            #expect(try await push(server, "/api/v1/push", Snappy.compress(anon.bytes)).status == 400)
            // zstd (vmagent's own protocol): 415, so vmagent falls back to Prometheus' protocol.
            var zstd = Self.remoteWriteHeaders
            zstd[1] = ("Content-Encoding", "zstd")
            #expect(try await push(server, "/api/v1/write", Self.dcgmRequest(), headers: zstd).status == 415)
            #expect(try await push(server, "/prometheus/api/v1/write", Self.dcgmRequest(), contentType: "text/plain").status == 415)
            #expect(server.db.seriesCount == 0)
            // A GET on the write path: 405 with Allow.
            let get = try await server.get("/prometheus/api/v1/write")
            #expect(get.status == 405)
        }
    }

    @Test func snappyBombIs413BeforeDecompressing() async throws {
        var config = TestServer.config()
        config.maxBodyBytes = 64 << 10
        try await TestServer.with(config: config, ingestSample: false) { server in
            // 9 bytes that declare 4 GiB - 1 of output.
            let bomb: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x00, 0x01, 0x00, 0x00]
            let r = try await push(server, "/prometheus/api/v1/write", bomb)
            #expect(r.status == 413)
            #expect(r.text.contains("4294967295"))
            // A real block that inflates past the limit: 1 MiB of label bytes compress to ~50 KB.
            var e = RemoteWriteEncoder()
            e.series([Label("__name__", "m"), Label("big", String(repeating: "a", count: 16_000))], samples: [(1, 1)])
            var big: [UInt8] = []
            for _ in 0..<40 { big += e.bytes }
            let compressed = Snappy.compress(big)
            #expect(compressed.count < config.maxBodyBytes)
            #expect(try await push(server, "/api/v1/push", compressed).status == 413)
            #expect(server.db.seriesCount == 0)
        }
    }

    @Test func authAsEveryWritePath() async throws {
        try await TestServer.with(ingestSample: false) { server in
            let body = Self.dcgmRequest()
            let bare: [(String, String)] = [("Content-Encoding", "snappy")]
            let anonymous = try await push(server, "/prometheus/api/v1/write", body, headers: bare)
            #expect(anonymous.status == 401)
            #expect(try await push(server, "/prometheus/api/v1/write", body, headers: bare + [("Authorization", "Bearer wrong")]).status == 401)
            #expect(try await push(server, "/prometheus/api/v1/write", body, headers: bare + [("Authorization", "Bearer test-key")]).status == 204)
            // Prometheus' basic_auth: the key as the password.
            let basic = "Basic " + Data("prometheus:test-key".utf8).base64EncodedString()
            #expect(try await push(server, "/api/v1/push", body, headers: bare + [("Authorization", basic)]).status == 204)
            let wrong = "Basic " + Data("prometheus:nope".utf8).base64EncodedString()
            #expect(try await push(server, "/api/v1/push", body, headers: bare + [("Authorization", wrong)]).status == 401)
            // The PromQL API that will live beside it is protected the same way.
            #expect(try await server.get("/prometheus/api/v1/query", headers: []).status == 401)
        }
    }

    /// The failing case: line protocol with tags uuid/gpu_id/Hostname stored every
    /// sample but listed 0 GPUs.
    @Test func lineProtocolGPUsAppearInTheInventory() async throws {
        try await TestServer.with(ingestSample: false) { server in
            let lp = """
            DCGM_FI_DEV_GPU_UTIL,uuid=GPU-lp-0,gpu_id=0,Hostname=lp-host,modelName=H100 value=5 1752871354
            DCGM_FI_DEV_GPU_UTIL,uuid=GPU-lp-1,gpu_id=1,Hostname=lp-host,modelName=H100 value=6 1752871354

            """
            #expect(try await server.post("/write?precision=s", lp, contentType: "text/plain").status == 204)
            let gpus = try #require(try await server.get("/api/v1/gpus").object()["gpus"] as? [[String: Any]])
            #expect(gpus.count == 2)
            #expect(gpus.first?["hostname"] as? String == "lp-host")
            let host = try await server.get("/api/v1/hosts/lp-host/gpus").object()
            #expect((host["gpus"] as? [[String: Any]])?.count == 2)
            let telemetry = try await server.get("/api/v1/gpus/GPU-lp-1/telemetry").object()
            #expect(telemetry["count"] as? Int == 1)
        }
    }
}
