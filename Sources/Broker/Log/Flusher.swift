import Foundation
import Primitives
import Synchronization

/// A file whose writes the flusher makes durable.
protocol Syncable: AnyObject, Sendable {
    var path: String { get }
    /// Serialises and batches this file's fsyncs.
    var syncGate: SyncGate { get }
    /// `fsync`s the file; returns 0 or the errno.
    func sync() -> Int32
}

/// Durability of produce and ack, off the broker's actor and per file:
///
/// - `always`: every request gets an `fsync` of its own.
/// - `batch`: every request that arrived while a file's previous `fsync` ran shares the next
///   one (group commit).
/// - `none`: requests return at once; the kernel flushes (a `kill -9` keeps the data).
///
/// Each file has its own serial gate and thread, so a slow `fsync` of one partition's segment
/// never delays another partition's produce. A request returns once the `fsync` of each of
/// its files, begun after it arrived, has completed; on one file requests complete in arrival
/// order.
final class Flusher: Sendable {
    private struct State {
        var stopped = false
        var inFlight = 0
        var drained: [CheckedContinuation<Void, Never>] = []
    }

    let policy: FsyncPolicy
    private let state = Mutex(State())
    private let observe: @Sendable (Double) -> Void

    /// `observe` receives each fsync's duration in seconds (for the fsync histogram).
    init(policy: FsyncPolicy, observe: @escaping @Sendable (Double) -> Void) {
        self.policy = policy
        self.observe = observe
    }

    /// Returns once every file in `targets` is durable under the policy.
    func sync(_ targets: [any Syncable]) async throws {
        guard policy != .none, !targets.isEmpty else { return }
        let admitted = state.withLock { s -> Bool in
            if s.stopped { return false }
            s.inFlight += 1
            return true
        }
        guard admitted else { throw BrokerError.shutDown }
        defer { finished() }
        var seen = Set<ObjectIdentifier>()
        let unique = targets.filter { seen.insert(ObjectIdentifier($0)).inserted }
        let policy = self.policy, observe = self.observe
        if unique.count == 1 {
            try await unique[0].syncGate.sync(unique[0], policy: policy, observe: observe)
            return
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for target in unique {
                group.addTask { try await target.syncGate.sync(target, policy: policy, observe: observe) }
            }
            try await group.waitForAll()
        }
    }

    private func finished() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.inFlight -= 1
            guard s.inFlight == 0 else { return [] }
            defer { s.drained.removeAll() }
            return s.drained
        }
        for w in waiters { w.resume() }
    }

    /// Refuses new requests and waits for the ones in flight.
    func stop() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let done = state.withLock { s -> Bool in
                s.stopped = true
                if s.inFlight == 0 { return true }
                s.drained.append(c)
                return false
            }
            if done { c.resume() }
        }
    }
}

/// Group commit for one file on a serial queue of its own: a request that arrives while an
/// `fsync` runs waits for the next one, which covers every request that arrived meanwhile
/// (`batch`), or gets one of its own (`always`).
final class SyncGate: Sendable {
    private struct State {
        var running = false
        var waiting: [CheckedContinuation<Void, any Error>] = []
    }

    private let state = Mutex(State())
    private let queue: DispatchQueue

    init(label: String) {
        queue = DispatchQueue(label: label)
    }

    func sync(_ file: any Syncable, policy: FsyncPolicy, observe: @escaping @Sendable (Double) -> Void) async throws {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            let start = state.withLock { s -> Bool in
                s.waiting.append(c)
                if s.running { return false }
                s.running = true
                return true
            }
            if start { queue.async { self.drain(file, policy: policy, observe: observe) } }
        }
    }

    private func drain(_ file: any Syncable, policy: FsyncPolicy, observe: @Sendable (Double) -> Void) {
        while true {
            let batch = state.withLock { s -> [CheckedContinuation<Void, any Error>] in
                if s.waiting.isEmpty { s.running = false }
                defer { s.waiting.removeAll() }
                return s.waiting
            }
            if batch.isEmpty { return }
            func once() -> Int32 {
                IOFaults.before(.fsync, file.path)
                let start = DispatchTime.now().uptimeNanoseconds
                let err = file.sync()
                observe(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
                return err
            }
            if policy == .always {
                for c in batch { Self.resume(c, once()) }
            } else {
                let err = once()
                for c in batch { Self.resume(c, err) }
            }
        }
    }

    private static func resume(_ c: CheckedContinuation<Void, any Error>, _ err: Int32) {
        if err != 0 {
            c.resume(throwing: BrokerError.io("fsync failed: \(String(cString: strerror(err)))"))
        } else {
            c.resume()
        }
    }
}

extension Segment: Syncable {}
