import Foundation
import HTTPServing
import TelemetryTestSupport
import Testing

@testable import Broker

/// The broker's and the proxy's HTTP servers close slow clients like the API does (the same
/// ``HTTPTimeouts`` and guard): slowloris and stalled produce bodies after the idle timeout,
/// a trickled produce body after the read timeout, while `/health` keeps answering.
@Suite struct SlowClientTests {
    /// The trickle sends a byte every 0.2 s; an idle timeout of 2 s leaves it ten periods of
    /// slack, so a trickler stalled for a second on a loaded machine (which CI saw with 1 s:
    /// two trickled bodies closed by the idle timeout at 1.0 s) is not taken for a slow client.
    static let timeouts = HTTPTimeouts(idle: .seconds(2), read: .seconds(5), write: .seconds(5))

    @Test func brokerClosesSlowClients() async throws {
        try await withBroker({ $0.httpTimeouts = Self.timeouts }) { broker in
            try await Self.slowClientsAreClosed(port: broker.port)
        }
    }

    @Test func proxyClosesSlowClients() async throws { try await withCleanup { cleanup in
        let broker = try await RunningBroker.start()
        cleanup.add { await broker.stop() }
        let proxy = try await RunningProxy.start(brokers: [broker.url], timeouts: Self.timeouts)
        cleanup.add { await proxy.stop() }
        try await Self.slowClientsAreClosed(port: proxy.port)
    } }

    static func slowClientsAreClosed(port: Int) async throws {
        let started = ContinuousClock.now
        let produce = "POST /produce?topic=t&partition=0 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
        let (loris, stalled, trickled) = try await offPool {
            let loris = try (0..<5).map { _ in try SlowSocket(port: port) }
            for s in loris { s.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ") }
            let stalled = try (0..<5).map { _ in try SlowSocket(port: port) }
            for s in stalled { s.send(produce + "Content-Length: 1000\r\n\r\nhello") }
            let trickled = try (0..<5).map { _ in try SlowSocket(port: port) }
            for s in trickled { s.send(produce + "Content-Length: 100000\r\n\r\n") }
            return (loris, stalled, trickled)
        }
        let trickle = Task {
            try await offPool {
                let deadline = ContinuousClock.now + .seconds(20)
                while ContinuousClock.now < deadline, !(loris + stalled + trickled).allSatisfy(\.isClosed) {
                    for s in loris { s.send("a"); s.poll() }
                    for s in trickled { s.send("x"); s.poll() }
                    for s in stalled { s.poll() }
                    Thread.sleep(forTimeInterval: 0.2)
                }
            }
        }
        let health = try await http(.GET, "http://127.0.0.1:\(port)/health")
        #expect(health.status == 200)
        try await trickle.value
        func seconds(_ s: SlowSocket) -> Double {
            guard let at = s.closedAt else { return .infinity }
            let d = at - started
            return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        }
        for (name, group, timeout) in [("slowloris", loris, 2.0), ("stalled body", stalled, 2.0), ("trickled body", trickled, 5.0)] {
            let times = group.map(seconds)
            #expect(times.allSatisfy { $0 >= timeout - 0.3 && $0 < timeout + 8 }, "\(name) closed at \(times.map { String(format: "%.1f", $0) }) s, timeout \(timeout) s")
        }
        #expect(try await http(.GET, "http://127.0.0.1:\(port)/health").status == 200)
    }
}
