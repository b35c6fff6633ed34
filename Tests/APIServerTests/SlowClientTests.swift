@testable import APIServer
import HTTPServing
import TelemetryTestSupport
import Foundation
import Testing

/// Slow clients (slowloris, a body that never finishes, a reader that never reads) hold no
/// worker, lock or unbounded memory: with 50 of them open, `/health` and queries from other
/// clients are answered, and each slow one is closed once its timeout has passed, not before.
@Suite struct SlowClientTests {
    static let timeouts = HTTPTimeouts(idle: .seconds(2), read: .seconds(4), write: .seconds(3))

    static func config() -> APIServerConfig {
        var c = TestServer.config()
        c.httpTimeouts = timeouts
        return c
    }

    @Test func fiftySlowConnectionsAreClosedAfterTheirTimeoutsWhileOthersAreServed() async throws {
        try await TestServer.with(config: Self.config()) { server in
            let port = server.port
            let started = ContinuousClock.now
            // 15 slowloris (headers one byte at a time), 15 bodies that stop after 10 of 1,000
            // bytes, 15 bodies trickled one byte at a time, 5 readers that pipeline 40 requests
            // for a 1 MB asset and never read.
            let (loris, stalled, trickled, deaf) = try await offPool {
                let loris = try (0..<15).map { _ in try SlowSocket(port: port) }
                for s in loris { s.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ") }
                let stalled = try (0..<15).map { _ in try SlowSocket(port: port) }
                for s in stalled {
                    s.send("POST /api/v1/write HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: test-key\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n[{\"metric\":")
                }
                let trickled = try (0..<15).map { _ in try SlowSocket(port: port) }
                for s in trickled {
                    s.send("POST /api/v1/write HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: test-key\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
                }
                let request = "GET /docs/swagger-ui-bundle.js HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                let deaf = try (0..<5).map { _ in try SlowSocket(port: port, receiveBuffer: 4096) }
                for s in deaf { s.send(String(repeating: request, count: 40)) }
                return (loris, stalled, trickled, deaf)
            }
            // The trickle: one byte every 250 ms to every slowloris and trickled body until the
            // server closes them (or 20 s pass), watching the stalled ones meanwhile.
            let trickle = Task {
                try await offPool {
                    let deadline = ContinuousClock.now + .seconds(20)
                    while ContinuousClock.now < deadline, !(loris + trickled + stalled).allSatisfy(\.isClosed) {
                        for s in loris { s.send("a"); s.poll() }
                        for s in trickled { s.send(" "); s.poll() }
                        for s in stalled { s.poll() }
                        Thread.sleep(forTimeInterval: 0.25)
                    }
                }
            }
            // Meanwhile other clients are served: /health, a query, a write. The first round is
            // the one that must come while every slow connection is still open (on a loaded
            // machine all three rounds may outlast the 4 s trickle timeout).
            var firstRound: ContinuousClock.Instant?
            for _ in 0..<3 {
                #expect(try await rawStatus(port: port, method: "GET", target: "/health") == 200)
                #expect(try await rawStatus(port: port, method: "GET", target: "/api/v1/gpus", headers: [("X-API-Key", "test-key")]) == 200)
                #expect(try await rawStatus(port: port, method: "POST", target: "/api/v1/write", headers: [("X-API-Key", "test-key"), ("Content-Type", "application/json")],
                                            body: "{\"metric\":\"slow_test\",\"value\":1}") == 204)
                if firstRound == nil { firstRound = ContinuousClock.now }
            }
            let served = firstRound ?? ContinuousClock.now
            try await trickle.value

            func seconds(_ s: SlowSocket) -> Double {
                guard let at = s.closedAt else { return .infinity }
                let d = at - started
                return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
            }
            // Every slow connection was still open while the others were served…
            let servedAfter = Double((served - started).components.seconds) + Double((served - started).components.attoseconds) / 1e18
            let trickledOpen = trickled.filter { seconds($0) > servedAfter }.count
            #expect(trickledOpen == trickled.count, "trickled bodies closed before the other clients were served")
            // …and each kind was closed by its own timeout: not before it, and within a few
            // seconds after (a busy machine adds latency, never an early close).
            for (name, group, timeout) in [("slowloris", loris, 2.0), ("stalled body", stalled, 2.0), ("trickled body", trickled, 4.0)] {
                let times = group.map(seconds)
                #expect(times.allSatisfy { $0 >= timeout - 0.3 && $0 < timeout + 8 }, "\(name) closed at \(times.map { String(format: "%.1f", $0) }) s, timeout \(timeout) s")
            }
            // The readers that never read: after the write timeout the server has closed them,
            // having sent only what the socket buffers hold, not the 40 MB they asked for.
            try await Task.sleep(for: .seconds(4))
            let drained = try await offPool { deaf.map { ($0.drain(seconds: 10), $0.received) } }
            for (closed, bytes) in drained {
                #expect(closed, "a client that never read was not closed after the write timeout")
                #expect(bytes < 20 << 20, "a client that never read received \(bytes) bytes")
            }
            #expect(try await rawStatus(port: port, method: "GET", target: "/health") == 200)
        }
    }

    @Test func timeoutsMustBePositive() throws {
        var t = HTTPTimeouts.defaults
        t.read = .zero
        #expect(throws: HTTPTimeoutError.self) { try t.validate() }
        var c = TestServer.config()
        c.httpTimeouts = t
        #expect(throws: APIConfigError.self) { try c.validate() }
        #expect(HTTPTimeouts.defaults == HTTPTimeouts(idle: .seconds(30), read: .seconds(60), write: .seconds(60)))
    }
}
