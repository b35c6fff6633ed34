import Foundation
import TSDB

/// A file whose writes the flusher makes durable.
protocol Syncable: AnyObject, Sendable {
    /// `fsync`s the file; returns 0 or the errno.
    func sync() -> Int32
}

/// Group commit on a dedicated thread, so `fsync` never blocks the cooperative pool.
///
/// - `always`: every request gets an `fsync` of its own, in arrival order.
/// - `batch`: every request that arrived while the previous `fsync` ran shares the next one.
/// - `none`: requests return at once; the kernel flushes (a `kill -9` keeps the data).
///
/// A request returns only after the `fsync` of each of its files has completed, and requests
/// complete in arrival order, so a later request's completion implies the earlier ones'.
final class Flusher: @unchecked Sendable {
    private struct Request {
        let targets: [any Syncable]
        let continuation: CheckedContinuation<Void, any Error>
    }

    let policy: FsyncPolicy
    private let condition = NSCondition()
    private var pending: [Request] = []
    private var stopped = false
    private var running = false
    private let observe: @Sendable (Double) -> Void

    /// `observe` receives each fsync's duration in seconds (for the fsync histogram).
    init(policy: FsyncPolicy, observe: @escaping @Sendable (Double) -> Void) {
        self.policy = policy
        self.observe = observe
        if policy != .none {
            running = true
            let thread = Thread { [self] in self.run() }
            thread.name = "broker-flusher"
            thread.start()
        }
    }

    /// Returns once every file in `targets` is durable under the policy.
    func sync(_ targets: [any Syncable]) async throws {
        guard policy != .none, !targets.isEmpty else { return }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            condition.lock()
            if stopped {
                condition.unlock()
                continuation.resume(throwing: BrokerError.shutDown)
                return
            }
            pending.append(Request(targets: targets, continuation: continuation))
            condition.signal()
            condition.unlock()
        }
    }

    /// Finishes the queued requests, then ends the thread.
    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        while running { condition.wait() }
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while pending.isEmpty && !stopped { condition.wait() }
            if pending.isEmpty {
                running = false
                condition.broadcast()
                condition.unlock()
                return
            }
            let batch: [Request]
            if policy == .always {
                batch = [pending.removeFirst()]
            } else {
                batch = pending
                pending.removeAll(keepingCapacity: true)
            }
            condition.unlock()

            var seen = Set<ObjectIdentifier>()
            var failure: Int32 = 0
            for request in batch {
                for target in request.targets where seen.insert(ObjectIdentifier(target)).inserted {
                    let start = DispatchTime.now().uptimeNanoseconds
                    let err = target.sync()
                    observe(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
                    if err != 0 { failure = err }
                }
            }
            for request in batch {
                if failure != 0 {
                    request.continuation.resume(throwing: BrokerError.io("fsync failed: \(String(cString: strerror(failure)))"))
                } else {
                    request.continuation.resume()
                }
            }
        }
    }
}

extension Segment: Syncable {}
