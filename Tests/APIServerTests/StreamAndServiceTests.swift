@testable import APIServer
import AsyncHTTPClient
import Foundation
import Ingest
import NIOCore
import Prometheus
import Testing
import TelemetryTestSupport

@Suite struct StreamAndServiceTests {
    @Test func streamDeliversNewSamplesAsServerSentEvents() async throws {
        try await TestServer.with { server in
            let uuid = "GPU-5fd4f087-86f3-7a43-b711-4771313afc50"
            var request = HTTPClientRequest(url: server.base + "/api/v1/gpus/\(uuid)/stream?metric=DCGM_FI_DEV_GPU_TEMP")
            request.headers.add(name: "X-API-Key", value: "test-key")
            let response = try await HTTPClient.shared.execute(request, timeout: Patience.replyTimeAmount)
            #expect(response.status.code == 200)
            #expect(response.headers.first(name: "Content-Type") == "text/event-stream")
            let writer = Task {
                // Keep writing until the reader has seen its event (the subscription starts with the response).
                for i in 0..<50 {
                    let body = #"{"metric":"DCGM_FI_DEV_GPU_TEMP","value":\#(40 + i),"uuid":"\#(uuid)","hostname":"mtv5-dgx1-hgpu-031","time":\#(1_752_900_000 + i)}"#
                    _ = try? await server.post("/telemetry", body)
                    _ = try? await server.post("/telemetry", #"{"metric":"OTHER","value":1,"uuid":"\#(uuid)","time":\#(1_752_900_000 + i)}"#)
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            defer { writer.cancel() }
            var text = ""
            var iterator = response.body.makeAsyncIterator()
            let deadline = ContinuousClock.now + Patience.reply
            while !text.contains("event: sample"), ContinuousClock.now < deadline, let chunk = try await iterator.next() {
                text += String(buffer: chunk)
            }
            #expect(text.contains("event: sample"))
            #expect(text.contains("\"metric\":\"DCGM_FI_DEV_GPU_TEMP\""))
            #expect(!text.contains("OTHER"))
            #expect(try await server.get("/api/v1/gpus/GPU-unknown/stream").status == 404)
        }
    }

    @Test func readinessUIAndHead() async throws {
        try await TestServer.with(ingestSample: false) { server in
            let ui = try await server.get("/", headers: [])
            #expect(ui.status == 200)
            #expect(ui.header("Content-Type")?.hasPrefix("text/html") == true)
            #expect(try await server.request("/health", method: .HEAD, headers: []).status == 200)
            #expect(try await server.request("/api/v1/gpus", method: .init(rawValue: "QUERY")).status == 405)
            #expect(try await server.get("/ping", headers: []).status == 204)
        }
    }

    @Test func readyIs503UntilMarkedReady() async throws {
        let readiness = APIReadiness(ready: false)
        #expect(!readiness.isReady)
        readiness.set(true)
        #expect(readiness.isReady)
    }

    @Test func cursorsAuthAndMethods() throws {
        for text in ["", "a", "GPU-5fd4f087", "ünïcødé\u{1F}|\"", String(repeating: "xyz", count: 50)] {
            #expect(try Cursor.decode(Cursor.encode(text)) == text)
        }
        #expect(AuthMiddleware.constantTimeEqual(Array("abc".utf8), Array("abc".utf8)))
        #expect(!AuthMiddleware.constantTimeEqual(Array("abc".utf8), Array("abd".utf8)))
        #expect(!AuthMiddleware.constantTimeEqual(Array("abc".utf8), Array("abcd".utf8)))
        #expect(AuthMiddleware.match(Array("k2".utf8), against: [Array("k1".utf8), Array("k2".utf8)]) == 1)
        #expect(RouteTable.route(forPath: "/api/v1/gpus/abc/telemetry")?.methods == [.get])
        #expect(RouteTable.route(forPath: "/api/v1/gpus/abc/nothing") == nil)
    }
}
