import Foundation
import Ingest
import Testing
import TSDB

/// A MIG-enabled A100 as dcgm-exporter exposes it: one series per GPU instance, labelled
/// `GPU_I_ID` and `GPU_I_PROFILE`, all with the parent GPU's `UUID`. The inventory lists one
/// GPU with its instances, never one GPU per slice.
@Suite("MIG instances in the inventory")
struct MIGInventoryTests {
    static let migUUID = "GPU-b8ea3855-276c-c9cb-b366-c6fa655957c5"
    static let plainUUID = "GPU-0c2cd7ba-6e6a-5bd4-4c1c-1ef0b0d8b5a1"

    /// dcgm-exporter 3.3's /metrics on a host with GPU 0 split into 3g.40gb + 2 × 1g.10gb and
    /// GPU 1 without MIG (newer exporters spell the host `hostname`).
    static let exposition = """
    # HELP DCGM_FI_PROF_GR_ENGINE_ACTIVE Ratio of time the graphics engine is active.
    # TYPE DCGM_FI_PROF_GR_ENGINE_ACTIVE gauge
    DCGM_FI_PROF_GR_ENGINE_ACTIVE{gpu="0",UUID="\(migUUID)",pci_bus_id="00000000:07:00.0",device="nvidia0",modelName="NVIDIA A100-SXM4-80GB",GPU_I_PROFILE="3g.40gb",GPU_I_ID="2",hostname="dgx-a100-1",DCGM_FI_DRIVER_VERSION="535.104.05"} 0.412
    DCGM_FI_PROF_GR_ENGINE_ACTIVE{gpu="0",UUID="\(migUUID)",pci_bus_id="00000000:07:00.0",device="nvidia0",modelName="NVIDIA A100-SXM4-80GB",GPU_I_PROFILE="1g.10gb",GPU_I_ID="9",hostname="dgx-a100-1",DCGM_FI_DRIVER_VERSION="535.104.05"} 0.000000
    DCGM_FI_PROF_GR_ENGINE_ACTIVE{gpu="0",UUID="\(migUUID)",pci_bus_id="00000000:07:00.0",device="nvidia0",modelName="NVIDIA A100-SXM4-80GB",GPU_I_PROFILE="1g.10gb",GPU_I_ID="10",hostname="dgx-a100-1",DCGM_FI_DRIVER_VERSION="535.104.05"} 0.987
    # HELP DCGM_FI_DEV_FB_USED Framebuffer memory used (in MiB).
    # TYPE DCGM_FI_DEV_FB_USED gauge
    DCGM_FI_DEV_FB_USED{gpu="0",UUID="\(migUUID)",pci_bus_id="00000000:07:00.0",device="nvidia0",modelName="NVIDIA A100-SXM4-80GB",GPU_I_PROFILE="3g.40gb",GPU_I_ID="2",hostname="dgx-a100-1",DCGM_FI_DRIVER_VERSION="535.104.05"} 13
    DCGM_FI_DEV_FB_USED{gpu="1",UUID="\(plainUUID)",pci_bus_id="00000000:0F:00.0",device="nvidia1",modelName="NVIDIA A100-SXM4-80GB",hostname="dgx-a100-1",DCGM_FI_DRIVER_VERSION="535.104.05"} 40211

    """

    static let expectedInstances: [[String: String]] = [
        ["gpu_instance_id": "2", "profile": "3g.40gb"],
        ["gpu_instance_id": "9", "profile": "1g.10gb"],
        ["gpu_instance_id": "10", "profile": "1g.10gb"],
    ]

    func checkInventory(_ server: TestServer) async throws {
        let list = try await server.get("/api/v1/gpus").object()
        #expect(list["total"] as? Int == 2)   // two GPUs, not 3 slices + 1
        let gpus = try #require(list["gpus"] as? [[String: Any]])
        let mig = try #require(gpus.first { $0["uuid"] as? String == Self.migUUID })
        #expect(mig["mig_instances"] as? [[String: String]] == Self.expectedInstances)
        #expect(mig["hostname"] as? String == "dgx-a100-1" && mig["gpu_id"] as? String == "0")
        #expect(mig["series_count"] as? Int == 4)
        let plain = try #require(gpus.first { $0["uuid"] as? String == Self.plainUUID })
        #expect((plain["mig_instances"] as? [Any])?.isEmpty == true)

        let detail = try await server.get("/api/v1/gpus/" + Self.migUUID).object()
        #expect(detail["mig_instances"] as? [[String: String]] == Self.expectedInstances)
        let hosts = try await server.get("/api/v1/hosts").object()
        #expect((hosts["hosts"] as? [[String: Any]])?.first?["gpu_count"] as? Int == 2)
        // The slices stay queryable by their own labels.
        let q = try await server.get("/api/v1/query?metric=DCGM_FI_PROF_GR_ENGINE_ACTIVE&match%5B%5D=" + encode("GPU_I_ID=\"10\"")).object()
        let series = try #require((q["series"] as? [[String: Any]])?.first)
        #expect((series["values"] as? [Double]) == [0.987])
    }

    @Test("scraped by Prometheus and remote-written")
    func remoteWrite() async throws {
        try await TestServer.with(ingestSample: false) { server in
            let (samples, problems) = PrometheusText.parse(Array(Self.exposition.utf8))
            #expect(problems.isEmpty && samples.count == 5)
            let t = Int64(Date().timeIntervalSince1970 * 1000)
            var e = RemoteWriteEncoder()
            for s in samples {
                let labels = (s.labels.map { Label($0.name, $0.value) } + [Label("__name__", s.name), Label("instance", "dgx-a100-1:9400"), Label("job", "dcgm")])
                    .sorted { $0.name < $1.name }
                e.series(labels, samples: [(t, s.value)])
            }
            let w = try await server.request("/api/v1/push", method: .POST, headers: RemoteWriteHTTPTests.remoteWriteHeaders,
                                             body: Snappy.compress(e.bytes), contentType: "application/x-protobuf")
            #expect(w.status == 204, "\(w.text)")
            try await checkInventory(server)
        }
    }

    @Test("scraped by the streamer and written by the collector")
    func streamerScrape() async throws {
        var config = TestServer.config()
        config.serviceToken = "svc"
        try await TestServer.with(config: config, ingestSample: false) { server in
            let (samples, _) = PrometheusText.parse(Array(Self.exposition.utf8))
            let converter = ScrapeConverter(instance: "dgx-a100-1:9400", job: "dcgm-exporter")
            let (document, skipped) = converter.document(from: samples, scrapeTime: Int64(Date().timeIntervalSince1970 * 1e9))
            #expect(skipped == 0)
            let w = try await server.request("/internal/v1/write", method: .POST, headers: [("Authorization", "Bearer svc")],
                                             body: document, contentType: "text/csv")
            #expect(w.status == 204 && w.header("X-Samples-Written") == "5", "\(w.text)")
            try await checkInventory(server)
        }
    }
}
