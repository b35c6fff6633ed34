import AsyncHTTPClient
import Foundation
import Testing
import TelemetryTestSupport

/// The embedded default, as a user starts it: the real `telemetry run` process replaying the
/// bundled sample, stopped with SIGTERM and started again on the same data directory.
@Suite(.serialized)
struct RunCommandTests {
    struct Reply {
        var status: UInt
        var json: [String: Any]
    }

    func get(_ url: String, key: String?) async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        if let key { request.headers.add(name: "X-API-Key", value: key) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(15))
        let body = try await response.body.collect(upTo: 16 << 20)
        let json = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] ?? [:]
        return Reply(status: response.status.code, json: json)
    }

    func waitReady(_ base: String) async -> Bool {
        await eventually(timeout: .seconds(30), every: .milliseconds(100)) {
            ((try? await get(base + "/ready", key: nil))?.status ?? 0) == 200
        }
    }

    /// The key printed in the banner ("API key    <64 hex digits>").
    func printedKey(_ log: String) -> String? {
        for line in log.split(separator: "\n") where line.trimmingCharacters(in: .whitespaces).hasPrefix("API key") {
            if let word = line.split(separator: " ").last, word.count == 64, word.allSatisfy(\.isHexDigit) { return String(word) }
        }
        return nil
    }

    /// Samples of DCGM_FI_DEV_GPU_UTIL over all GPUs (one count over everything).
    func utilSamples(_ base: String, key: String) async throws -> Int {
        let r = try await get(base + "/api/v1/query?metric=DCGM_FI_DEV_GPU_UTIL&agg=count&group_by=", key: key)
        let series = r.json["series"] as? [[String: Any]] ?? []
        return Int((series.first?["values"] as? [Double])?.first ?? 0)
    }

    @Test(.timeLimit(.minutes(3)))
    func runServesTheSampleKeepsItsKeyDrainsAndResumes() async throws {
        let dirTemp = TempDir("e2e-run")
        let dir = dirTemp.path
        let children = Children()
        defer { children.killAll() }
        // API_KEY empty: the stack generates its own key.
        let env = ["API_KEY": "", "LOG_LEVEL": "warning"]

        // First start: every role, the bundled sample found on its own (no --csv).
        let first = try children.start("run#1", ["run", "--listen", "127.0.0.1:0", "--data-dir", dir], environment: env)
        let port = try await first.port()
        let base = "http://127.0.0.1:\(port)"
        #expect(await waitReady(base), "\(first.log)")
        #expect(first.log.contains("samples/dcgm_metrics_20250718_134233.csv"), "the banner names the sample: \(first.log)")
        #expect(first.log.contains("\(base)/"), "the banner gives the UI's address")
        #expect(first.log.components(separatedBy: "curl -s -H 'X-API-Key: ").count - 1 == 3, "three curl examples")

        let keyPath = dir + "/api-key"
        let attributes = try FileManager.default.attributesOfItem(atPath: keyPath)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let stored = try String(contentsOfFile: keyPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let key = try #require(printedKey(first.log), "no key in the banner: \(first.log)")
        #expect(key == stored)

        #expect(try await get(base + "/api/v1/gpus?limit=1", key: nil).status == 401)
        #expect(try await get(base + "/api/v1/gpus?limit=1", key: "wrong").status == 401)
        let allGPUs = await eventually(timeout: .seconds(60), every: .milliseconds(200)) {
            ((try? await get(base + "/api/v1/gpus?limit=1", key: key))?.json["total"] as? Int) == 247
        }
        #expect(allGPUs, "the streamer → broker → collector → TSDB path never showed 247 GPUs: \(first.log.suffix(3000))")
        #expect(try await get(base + "/", key: nil).status == 200, "the UI is served at /")
        let before = try await utilSamples(base, key: key)
        #expect(before >= 247)

        first.terminate()
        #expect(await first.wait(timeout: .seconds(30)) == 0, "SIGTERM must drain and exit 0: \(first.log.suffix(3000))")
        #expect(first.log.contains("telemetry run stopped"))

        // Second start on the same directory: the same key, all the data.
        let second = try children.start("run#2", ["run", "--listen", "127.0.0.1:0", "--data-dir", dir, "--no-streamer"], environment: env)
        let base2 = "http://127.0.0.1:\(try await second.port())"
        #expect(await waitReady(base2), "\(second.log)")
        #expect(printedKey(second.log) == key, "the second start reuses the stored key")
        #expect(second.log.contains("read from"))
        #expect((try await get(base2 + "/api/v1/gpus?limit=1", key: key).json["total"] as? Int) == 247)
        let after = try await utilSamples(base2, key: key)
        #expect(after >= before, "samples before the stop: \(before), after the restart: \(after)")

        second.terminate()
        #expect(await second.wait(timeout: .seconds(30)) == 0, "\(second.log.suffix(3000))")
    }

    @Test(.timeLimit(.minutes(1)))
    func givenAPIKeyIsUsedNothingIsWrittenAndSIGINTEndsEvenWithALiveStream() async throws {
        let dirTemp = TempDir("e2e-run-key")
        let dir = dirTemp.path
        let children = Children()
        defer { children.killAll() }
        let child = try children.start("run", ["run", "--listen", "127.0.0.1:0", "--data-dir", dir, "--no-streamer"],
                                       environment: ["API_KEY": "my-own-key", "LOG_LEVEL": "warning"])
        let base = "http://127.0.0.1:\(try await child.port())"
        #expect(await waitReady(base), "\(child.log)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/api-key"))
        #expect(!child.log.contains("my-own-key"), "a key from the environment is never printed")
        #expect(try await get(base + "/api/v1/gpus", key: "my-own-key").status == 200)
        #expect(try await get(base + "/api/v1/gpus", key: nil).status == 401)

        // A browser's live stream stays open; SIGINT (Ctrl-C) still ends the process, with 0.
        let csv = """
            timestamp,metric_name,gpu_id,device,uuid,modelName,Hostname,container,pod,namespace,value,labels_raw
            2025-07-18T20:42:34Z,DCGM_FI_DEV_GPU_UTIL,0,nvidia0,\(exampleGPU),H100,host-a,,,,7,

            """
        var write = HTTPClientRequest(url: base + "/api/v1/write")
        write.method = .POST
        write.headers.add(name: "X-API-Key", value: "my-own-key")
        write.headers.add(name: "Content-Type", value: "text/csv")
        write.body = .bytes(Array(csv.utf8))
        #expect(try await HTTPClient.shared.execute(write, timeout: Patience.replyTimeAmount).status.code == 204)
        var streamRequest = HTTPClientRequest(url: base + "/api/v1/gpus/\(exampleGPU)/stream")
        streamRequest.headers.add(name: "X-API-Key", value: "my-own-key")
        let stream = try await HTTPClient.shared.execute(streamRequest, timeout: .seconds(60))
        #expect(stream.status.code == 200)
        let reader = Task { for try await _ in stream.body {} }
        defer { reader.cancel() }
        let stopped = ContinuousClock.now
        kill(child.pid, SIGINT)
        #expect(await child.wait(timeout: .seconds(30)) == 0, "\(child.log.suffix(2000))")
        #expect(ContinuousClock.now - stopped < .seconds(20))
    }
}
