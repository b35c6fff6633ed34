import TelemetryTestSupport
import Foundation
import Testing
@testable import Ingest

/// dcgm-exporter behind kube-rbac-proxy: https with the cluster's CA and a rotating
/// service-account token (`--scrape-ca-file`, `--scrape-bearer-token-file`).
@Suite("Scrape over TLS with a Bearer token", .serialized)
struct ScrapeTLSTests {
    /// A GPU sample, an NVLink sample naming its peer by `gpu_uuid`, an NVSwitch and a CPU sample.
    static let metrics = """
    # TYPE DCGM_FI_DEV_GPU_UTIL gauge
    DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-tls-0",pci_bus_id="00000000:07:00.0",device="nvidia0",modelName="NVIDIA H100 80GB HBM3",hostname="node-7"} 41
    DCGM_FI_PROF_NVLINK_TX_BYTES{gpu_uuid="GPU-peer-1",link="3"} 1024
    DCGM_FI_DEV_NVSWITCH_LINK_THROUGHPUT_TX{nvswitch="0",link="1",hostname="node-7"} 77
    DCGM_FI_DEV_CPU_UTIL_TOTAL{cpu="0",hostname="node-7"} 12.5

    """

    func streamerConfig(_ target: ScrapeTLSTarget, tokenFile: String?, caFile: String?) -> StreamerConfig {
        var c = StreamerConfig()
        c.scrapeURLs = [target.url]
        c.scrapeInterval = .milliseconds(100)
        c.partitions = 2
        c.scrapeBearerTokenFile = tokenFile
        c.scrapeCAFile = caFile
        c.shutdownGrace = .seconds(2)
        return c
    }

    /// One scrape of `target` presenting `token` (written to a client token file) and
    /// trusting `caFile`: the error it ends with (nil if none) and the token file's path.
    func fetchError(_ target: ScrapeTLSTarget, token: String, caFile: String, timeout: Duration) async throws -> ((any Error)?, String) {
        let tokenFile = target.directory + "/client-token"
        try token.write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let client = try ScrapeClient(caFile: caFile, bearerTokenFile: tokenFile)
        var caught: (any Error)?
        do { _ = try await client.fetch(target.url, timeout: timeout) } catch { caught = error }
        await client.shutdown()
        return (caught, tokenFile)
    }

    @Test("scrapes an https target that wants a Bearer token, keeps non-GPU series, and follows a rotated token")
    func bearerAndTLS() async throws {
        try await ScrapeTLSTarget.with(metrics: Self.metrics, token: "token-1") { target in
            let tokenFile = target.directory + "/client-token"
            try "token-1\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
            let broker = MemoryBroker(partitions: 2)
            let streamer = Streamer(config: streamerConfig(target, tokenFile: tokenFile, caFile: target.caPath), client: broker)
            let task = Task { try await streamer.run() }
            do {
                #expect(await eventually { ((try? broker.decodedRows().joined().count) ?? 0) >= 4 })
                let rows = try broker.decodedRows().joined()
                #expect(rows.contains { $0.metric == "DCGM_FI_DEV_GPU_UTIL" && $0.labels["UUID"] == "GPU-tls-0" && $0.value == 41 })
                // No GPU UUID, stored anyway, with the labels they were scraped with.
                let nvlink = rows.first { $0.metric == "DCGM_FI_PROF_NVLINK_TX_BYTES" }
                #expect(nvlink?.labels["gpu_uuid"] == "GPU-peer-1" && nvlink?.labels["UUID"] == nil)
                #expect(rows.contains { $0.metric == "DCGM_FI_DEV_NVSWITCH_LINK_THROUGHPUT_TX" && $0.labels["nvswitch"] == "0" })
                #expect(rows.contains { $0.metric == "DCGM_FI_DEV_CPU_UTIL_TOTAL" && $0.value == 12.5 && $0.labels["UUID"] == nil })
                #expect(target.requestLog.contains("ok Bearer token-1"))
                #expect(!target.requestLog.contains("denied"))

                // Kubernetes rotates the token: the proxy wants the new one, the file is replaced.
                try target.expect(token: "token-2")
                try "token-2\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
                #expect(await eventually { target.requestLog.contains("ok Bearer token-2") })
            } catch {
                streamer.stop()
                _ = try? await task.value
                throw error
            }
            streamer.stop()
            let stats = try await task.value
            #expect(stats.rowsPublished >= 8)
        }
    }

    @Test("a CA that did not sign the target's certificate fails the scrape with a TLS error naming --scrape-ca-file")
    func wrongCA() async throws {
        try await ScrapeTLSTarget.with(metrics: Self.metrics, token: "t") { target in
            // The client retries a failed connection until the deadline, then reports the TLS error.
            let (caught, tokenFile) = try await fetchError(target, token: "t", caFile: target.otherCAPath, timeout: .seconds(2))
            guard case .tls(let url, let ca, _)? = caught as? ScrapeError else {
                Issue.record("expected ScrapeError.tls, got \(String(describing: caught))")
                return
            }
            #expect(url == target.url && ca == target.otherCAPath)
            #expect((caught as? ScrapeError)?.description.contains("--scrape-ca-file \(target.otherCAPath)") == true)
            #expect(target.requestLog.isEmpty)   // no request got through the failed handshake

            // The streamer counts it as a failed scrape and publishes nothing.
            let broker = MemoryBroker(partitions: 2)
            let streamer = Streamer(config: streamerConfig(target, tokenFile: tokenFile, caFile: target.otherCAPath), client: broker)
            let task = Task { try await streamer.run() }
            #expect(await eventually { streamer.stats.scrapeErrors >= 1 })
            streamer.stop()
            let stats = try await task.value
            #expect(stats.rowsPublished == 0 && stats.scrapes == 0)
        }
    }

    @Test("a refused or missing token says which file or flag to fix")
    func tokenProblems() async throws {
        try await ScrapeTLSTarget.with(metrics: Self.metrics, token: "right") { target in
            let (caught, tokenFile) = try await fetchError(target, token: "wrong", caFile: target.caPath, timeout: .seconds(10))
            #expect(caught as? ScrapeError == .status(url: target.url, code: 401, hint: "; the token in \(tokenFile) was refused"))
            #expect(target.requestLog.contains("denied Bearer wrong"))

            // Startup errors: a missing file, an empty one, a CA file without a certificate.
            let missing = streamerConfig(target, tokenFile: target.directory + "/absent", caFile: target.caPath)
            await #expect(throws: PipelineConfigError.invalid("--scrape-bearer-token-file \(target.directory)/absent is not a readable file")) {
                try await Streamer(config: missing, client: MemoryBroker()).run()
            }
            try "\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
            let empty = streamerConfig(target, tokenFile: tokenFile, caFile: target.caPath)
            await #expect(throws: ScrapeError.tokenFile(path: tokenFile, reason: "is empty; it must hold the Bearer token")) {
                try await Streamer(config: empty, client: MemoryBroker()).run()
            }
            let notPEM = streamerConfig(target, tokenFile: nil, caFile: tokenFile)
            await #expect(throws: ScrapeError.self) { try await Streamer(config: notPEM, client: MemoryBroker()).run() }
        }
    }
}
