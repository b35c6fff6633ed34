@testable import APIServer
import AsyncHTTPClient
import Foundation
import NIOCore
import Testing
import TelemetryTestSupport

/// The API's request limits over real HTTP on 127.0.0.1:0: Grafana targets per query and
/// concurrent live streams, each refused with a status and a message naming the limit.
@Suite struct APILimitsTests {
    @Test func grafanaTargetsOverTheLimitAre400NamingIt() async throws {
        var config = TestServer.config()
        config.maxGrafanaTargets = 2
        try await TestServer.with(config: config, ingestSample: false) { server in
            func query(_ n: Int) -> String {
                let targets = (0..<n).map { #"{"target":"DCGM_FI_DEV_GPU_UTIL","refId":"R\#($0)"}"# }.joined(separator: ",")
                return #"{"range":{"from":"2025-07-18T20:00:00.000Z","to":"2025-07-18T21:00:00.000Z"},"maxDataPoints":100,"targets":[\#(targets)]}"#
            }
            let ok = try await server.post("/grafana/query", query(2))
            #expect(ok.status == 200, "\(ok.text)")
            let over = try await server.post("/grafana/query", query(3))
            #expect(over.status == 400)
            #expect(try over.errorCode() == "grafana_targets_limit_exceeded")
            #expect(over.text.contains("3 targets, over the limit of 2") && over.text.contains("--max-grafana-targets"), "\(over.text)")
        }
    }

    @Test func streamsOverTheLimitAre429AndAClosedStreamFreesItsSlot() async throws {
        var config = TestServer.config()
        config.maxStreamSubscribers = 1
        config.streamHeartbeatSeconds = 0.05
        try await TestServer.with(config: config) { server in
            let uuid = "GPU-5fd4f087-86f3-7a43-b711-4771313afc50"
            func open(_ client: HTTPClient) async throws -> HTTPClientResponse {
                var request = HTTPClientRequest(url: server.base + "/api/v1/gpus/\(uuid)/stream")
                request.headers.add(name: "X-API-Key", value: "test-key")
                return try await client.execute(request, timeout: Patience.replyTimeAmount)
            }
            let first = HTTPClient(eventLoopGroupProvider: .singleton)
            let opened = try await open(first)
            #expect(opened.status.code == 200)
            var iterator = opened.body.makeAsyncIterator()
            _ = try await iterator.next()   // the stream is running

            let refused = try await server.get("/api/v1/gpus/\(uuid)/stream")
            #expect(refused.status == 429, "\(refused.text)")
            #expect(try refused.errorCode() == "stream_limit_exceeded")
            #expect(refused.text.contains("--max-stream-subscribers") && refused.header("Retry-After") != nil, "\(refused.text)")

            // The client goes away: the next heartbeat write fails and the slot is freed.
            try await first.shutdown()
            let deadline = ContinuousClock.now + Patience.reply
            var again: HTTPClientResponse?
            while ContinuousClock.now < deadline {
                let r = try await open(HTTPClient.shared)
                if r.status.code == 200 { again = r; break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(again?.status.code == 200, "the slot of the closed stream came back")
        }
    }
}
