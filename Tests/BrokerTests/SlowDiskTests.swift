import Foundation
import Testing

@testable import Broker
import TelemetryTestSupport

/// A slow disk cannot be produced on demand, so a fault hook slows one partition's file
/// operations; the other partitions must not notice. Serialized: the hook is process-wide
/// (it matches only this test's directory, so other suites are unaffected).
@Suite("Blocking file I/O stays off the broker's actor", .serialized)
struct SlowDiskTests {
    static let delay: Duration = .seconds(3)
    /// Waiting behind the slow operation would take at least `delay` minus the 200 ms head
    /// start; half of `delay` leaves room for a two-core machine running the whole suite.
    static let fast: Duration = .milliseconds(1500)

    /// Runs `body` with partition 0 of topic `t` in `dir` slowed for `operation`.
    func withSlowPartition(_ operation: IOOperation, _ configure: (inout BrokerConfig) -> Void = { _ in },
                           _ body: (RunningBroker) async throws -> Void) async throws {
        let tmp = TempDir("slowdisk")
        let dir = tmp.path
        let slowPrefix = dir + "/topics/t/0/"
        let micros = UInt32(Self.delay.components.seconds * 1_000_000 + Self.delay.components.attoseconds / 1_000_000_000_000)
        try await withBroker(dir: dir, configure) { b in
            // Create the topic and every file first, at full speed.
            for p in 0..<2 { _ = try await b.broker.produce(topic: "t", partition: p, payloads: [payload(p)]) }
            IOFaults.install { op, path in
                if op == operation && path.hasPrefix(slowPrefix) { usleep(micros) }
            }
            defer { IOFaults.install(nil) }
            try await body(b)
        }
    }

    /// Starts `slow` and, while it is stuck, times `fast` on the other partition.
    func measure(slow: @escaping @Sendable () async throws -> Void, other: () async throws -> Void) async throws -> (other: Duration, slow: Duration) {
        let start = ContinuousClock.now
        let slowTask = Task { try await slow(); return ContinuousClock.now - start }
        try await Task.sleep(for: .milliseconds(200))  // the slow operation is now inside the hook
        let t0 = ContinuousClock.now
        try await other()
        let otherTook = ContinuousClock.now - t0
        return (otherTook, try await slowTask.value)
    }

    @Test("a slow fsync on partition 0 does not delay a produce on partition 1 (fsync=batch)")
    func slowFsync() async throws {
        try await withSlowPartition(.fsync) { b in
            let broker = b.broker
            let r = try await measure(slow: { _ = try await broker.produce(topic: "t", partition: 0, payloads: [payload(9)]) },
                                      other: { _ = try await broker.produce(topic: "t", partition: 1, payloads: [payload(8)]) })
            #expect(r.slow >= Self.delay, "the hook did not slow partition 0 (\(r.slow))")
            #expect(r.other < Self.fast, "partition 1's produce waited \(r.other) behind partition 0's fsync")
        }
    }

    @Test("a slow fsync under fsync=always does not delay another partition either")
    func slowFsyncAlways() async throws {
        try await withSlowPartition(.fsync, { $0.fsync = .always }) { b in
            let broker = b.broker
            let r = try await measure(slow: { _ = try await broker.produce(topic: "t", partition: 0, payloads: [payload(9)]) },
                                      other: { _ = try await broker.produce(topic: "t", partition: 1, payloads: [payload(8)]) })
            #expect(r.slow >= Self.delay)
            #expect(r.other < Self.fast, "partition 1 waited \(r.other)")
        }
    }

    @Test("a slow write on partition 0 leaves the actor free: produce, poll and ack on partition 1 go on")
    func slowWrite() async throws {
        try await withSlowPartition(.write) { b in
            let broker = b.broker
            let r = try await measure(slow: { _ = try await broker.produce(topic: "t", partition: 0, payloads: [payload(9)]) },
                                      other: {
                _ = try await broker.produce(topic: "t", partition: 1, payloads: [payload(8)])
                let got = try await broker.poll(topic: "t", partition: 1, group: "g", maxRecords: 10, wait: .zero)
                #expect(got.count == 2)
                _ = try await broker.ack(topic: "t", partition: 1, group: "g", ids: got.map(\.id))
            })
            #expect(r.slow >= Self.delay)
            #expect(r.other < Self.fast, "partition 1 waited \(r.other) behind partition 0's write")
            let after = try await broker.poll(topic: "t", partition: 0, group: "g", maxRecords: 10, wait: .zero)
            #expect(after.map(\.payload) == [payload(0), payload(9)], "the slow produce landed whole")
        }
    }

    @Test("a slow cold read on partition 0 does not hold up partition 1's consumers")
    func slowRead() async throws {
        // A memory tail of one record: older records are read from the segment.
        try await withSlowPartition(.read, { $0.queueSize = 1 }) { b in
            let broker = b.broker
            IOFaults.install(nil)
            _ = try await broker.produce(topic: "t", partition: 0, payloads: (1...4).map { payload($0) })
            let slowPrefix = b.dir + "/topics/t/0/"
            let micros = UInt32(Self.delay.components.seconds * 1_000_000)
            IOFaults.install { op, path in if op == .read && path.hasPrefix(slowPrefix) { usleep(micros) } }
            let r = try await measure(slow: {
                let got = try await broker.poll(topic: "t", partition: 0, group: "cold", maxRecords: 10, wait: .zero)
                #expect(got.count == 5)
            }, other: {
                _ = try await broker.produce(topic: "t", partition: 1, payloads: [payload(8)])
                let got = try await broker.poll(topic: "t", partition: 1, group: "warm", maxRecords: 1, wait: .zero)
                #expect(got.count == 1)
            })
            #expect(r.slow >= Self.delay)
            #expect(r.other < Self.fast, "partition 1 waited \(r.other) behind partition 0's read")
        }
    }
}
