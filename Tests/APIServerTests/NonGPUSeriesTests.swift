import Foundation
import Ingest
import Testing
import TSDB

/// NVLink metrics that name a peer by `gpu_uuid`, NVSwitch and CPU metrics carry no GPU UUID:
/// every ingest path stores them as series, with their labels as written, and none of them
/// makes a GPU appear in the inventory.
@Suite("Series without a GPU UUID, on every ingest path")
struct NonGPUSeriesTests {
    static var nowMillis: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// The stored series of `metric` (nil when there is none).
    func stored(_ server: TestServer, _ metric: String) throws -> SeriesResult? {
        try server.db.query(Query(metric: metric)).series.first
    }

    static let csvHeader = "timestamp,metric_name,gpu_id,device,uuid,modelName,Hostname,container,pod,namespace,value,labels_raw\n"

    /// A DCGM CSV row with an empty uuid (and gpu, device, model) column.
    static func csvRow(_ t: String, _ metric: String, host: String, value: String, raw: String) -> String {
        "\(t),\(metric),,,,,\(host),,,,\(value),\"\(raw.replacingOccurrences(of: "\"", with: "\"\""))\"\n"
    }

    func expectNoGPU(_ server: TestServer, _ comment: Comment) {
        #expect(server.db.gpus().isEmpty, comment)
    }

    @Test("DCGM CSV with an empty uuid column, to /api/v1/write and the collector's /internal/v1/write")
    func csv() async throws {
        var config = TestServer.config()
        config.serviceToken = "svc"
        try await TestServer.with(config: config, ingestSample: false) { server in
            let t = RFC3339Now.text()
            let csv = Self.csvHeader
                + Self.csvRow(t, "DCGM_FI_DEV_NVSWITCH_LINK_THROUGHPUT_TX", host: "node-7", value: "77", raw: #"nvswitch="0",link="1""#)
                + Self.csvRow(t, "DCGM_FI_PROF_NVLINK_TX_BYTES", host: "node-7", value: "1024", raw: #"gpu_uuid="GPU-peer-1",link="3""#)
            let w = try await server.post("/api/v1/write", csv, contentType: "text/csv")
            #expect(w.status == 204, "\(w.text)")
            let nvswitch = try stored(server, "DCGM_FI_DEV_NVSWITCH_LINK_THROUGHPUT_TX")
            #expect(nvswitch?.labels == Labels(["__name__": "DCGM_FI_DEV_NVSWITCH_LINK_THROUGHPUT_TX", "Hostname": "node-7", "nvswitch": "0", "link": "1"]))
            #expect(try stored(server, "DCGM_FI_PROF_NVLINK_TX_BYTES")?.labels["gpu_uuid"] == "GPU-peer-1")
            let cpu = Self.csvHeader + Self.csvRow(t, "DCGM_FI_DEV_CPU_UTIL_TOTAL", host: "node-7", value: "12.5", raw: #"cpu="0""#)
            let c = try await server.post("/internal/v1/write", cpu, contentType: "text/csv", headers: [("Authorization", "Bearer svc")])
            #expect(c.status == 204 && c.header("X-Samples-Written") == "1", "\(c.text)")
            #expect(try stored(server, "DCGM_FI_DEV_CPU_UTIL_TOTAL")?.values == [12.5])
            expectNoGPU(server, "CSV rows without a uuid")
        }
    }

    @Test("line protocol on /write, /api/v2/write and /api/v1/write")
    func lineProtocol() async throws {
        try await TestServer.with(ingestSample: false) { server in
            let ns = Self.nowMillis * 1_000_000
            let v1 = try await server.post("/write?db=telegraf", "nvlink,gpu_uuid=GPU-peer-1,link=3,host=node-7 tx_bytes=1024 \(ns)\n", contentType: "text/plain")
            #expect(v1.status == 204, "\(v1.text)")
            let v2 = try await server.post("/api/v2/write?org=o&bucket=b", "nvswitch,nvswitch=0,host=node-7 link_throughput_tx=77 \(ns)\n", contentType: "text/plain")
            #expect(v2.status == 204, "\(v2.text)")
            let plain = try await server.post("/api/v1/write", "cpu,cpu=cpu-total,host=node-7 usage_user=12.5 \(ns)\n", contentType: "text/plain")
            #expect(plain.status == 204, "\(plain.text)")
            #expect(try stored(server, "nvlink_tx_bytes")?.labels == Labels(["__name__": "nvlink_tx_bytes", "gpu_uuid": "GPU-peer-1", "link": "3", "host": "node-7"]))
            #expect(try stored(server, "nvswitch_link_throughput_tx")?.values == [77])
            #expect(try stored(server, "cpu_usage_user")?.labels["cpu"] == "cpu-total")
            expectNoGPU(server, "line protocol without uuid")
        }
    }

    @Test("JSON on /telemetry (object and NDJSON)")
    func json() async throws {
        try await TestServer.with(ingestSample: false) { server in
            let t = Self.nowMillis
            let one = #"{"metric":"DCGM_FI_DEV_CPU_UTIL_TOTAL","value":12.5,"time":\#(t),"hostname":"node-7","labels":{"cpu":"0"}}"#
            let j = try await server.post("/telemetry", one)
            #expect(j.status == 204, "\(j.text)")
            let nd = #"{"metric":"DCGM_FI_PROF_NVLINK_TX_BYTES","value":1024,"time":\#(t),"labels":{"gpu_uuid":"GPU-peer-1","link":"3"}}"# + "\n"
            let n = try await server.post("/telemetry", nd, contentType: "application/x-ndjson")
            #expect(n.status == 204, "\(n.text)")
            #expect(try stored(server, "DCGM_FI_DEV_CPU_UTIL_TOTAL")?.labels["cpu"] == "0")
            #expect(try stored(server, "DCGM_FI_PROF_NVLINK_TX_BYTES")?.labels["gpu_uuid"] == "GPU-peer-1")
            expectNoGPU(server, "JSON without uuid")
        }
    }

    @Test("Prometheus remote_write of NVLink, NVSwitch and CPU series")
    func remoteWrite() async throws {
        try await TestServer.with(ingestSample: false) { server in
            let t = Self.nowMillis
            var e = RemoteWriteEncoder()
            e.series([Label("__name__", "DCGM_FI_PROF_NVLINK_TX_BYTES"), Label("gpu_uuid", "GPU-peer-1"), Label("hostname", "node-7"),
                      Label("instance", "node-7:9400"), Label("job", "dcgm"), Label("link", "3")], samples: [(t, 1024)])
            e.series([Label("__name__", "DCGM_FI_DEV_NVSWITCH_LINK_THROUGHPUT_TX"), Label("hostname", "node-7"), Label("job", "dcgm"),
                      Label("nvswitch", "0")], samples: [(t, 77)])
            e.series([Label("__name__", "DCGM_FI_DEV_CPU_UTIL_TOTAL"), Label("cpu", "0"), Label("job", "dcgm")], samples: [(t, 12.5)])
            let w = try await server.request("/prometheus/api/v1/write", method: .POST, headers: RemoteWriteHTTPTests.remoteWriteHeaders,
                                             body: Snappy.compress(e.bytes), contentType: "application/x-protobuf")
            #expect(w.status == 204 && w.header("X-Samples-Written") == "3", "\(w.text)")
            #expect(try stored(server, "DCGM_FI_PROF_NVLINK_TX_BYTES")?.labels["gpu_uuid"] == "GPU-peer-1")
            #expect(try stored(server, "DCGM_FI_DEV_NVSWITCH_LINK_THROUGHPUT_TX")?.values == [77])
            #expect(try stored(server, "DCGM_FI_DEV_CPU_UTIL_TOTAL")?.labels["cpu"] == "0")
            expectNoGPU(server, "remote_write without UUID")
        }
    }

    @Test("a dcgm-exporter scrape (Prometheus text) through the streamer's converter and the collector's write")
    func scrape() async throws {
        var config = TestServer.config()
        config.serviceToken = "svc"
        try await TestServer.with(config: config, ingestSample: false) { server in
            let text = """
            # TYPE DCGM_FI_PROF_NVLINK_TX_BYTES counter
            DCGM_FI_PROF_NVLINK_TX_BYTES{gpu_uuid="GPU-peer-1",link="3",hostname="node-7"} 1024
            DCGM_FI_DEV_NVSWITCH_LINK_THROUGHPUT_TX{nvswitch="0",link="1",hostname="node-7"} 77
            DCGM_FI_DEV_CPU_UTIL_TOTAL{cpu="0",hostname="node-7"} 12.5

            """
            let (samples, problems) = PrometheusText.parse(Array(text.utf8))
            #expect(problems.isEmpty)
            let converter = ScrapeConverter(instance: "node-7:9400", job: "dcgm-exporter")
            let (document, skipped) = converter.document(from: samples, scrapeTime: Self.nowMillis * 1_000_000)
            #expect(skipped == 0)
            let w = try await server.request("/internal/v1/write", method: .POST, headers: [("Authorization", "Bearer svc")],
                                             body: document, contentType: "text/csv")
            #expect(w.status == 204 && w.header("X-Samples-Written") == "3", "\(w.text)")
            let nvlink = try stored(server, "DCGM_FI_PROF_NVLINK_TX_BYTES")
            #expect(nvlink?.labels["gpu_uuid"] == "GPU-peer-1" && nvlink?.labels["instance"] == "node-7:9400" && nvlink?.labels["job"] == "dcgm-exporter")
            #expect(try stored(server, "DCGM_FI_DEV_NVSWITCH_LINK_THROUGHPUT_TX")?.labels["nvswitch"] == "0")
            #expect(try stored(server, "DCGM_FI_DEV_CPU_UTIL_TOTAL")?.values == [12.5])
            expectNoGPU(server, "scraped series without UUID")
        }
    }
}

/// The current time as the RFC 3339 text of a DCGM CSV row.
enum RFC3339Now {
    static func text() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: Date())
    }
}
