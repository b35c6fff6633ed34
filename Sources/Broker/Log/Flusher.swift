import Foundation
import Primitives

/// A file whose writes the flusher makes durable.
protocol Syncable: AnyObject, Sendable {
    /// `fsync`s the file; returns 0 or the errno.
    func sync() -> Int32
}

/// Group commit on a dedicated thread, so `fsync` never blocks the cooperative pool.
///
/// - `always`: every request gets an `fsync` of its own.
/// - `batch`: every request that arrived while the previous round ran shares the next `fsync`
///   of each file it wrote.
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
    /// Serial (hence overcommitting) queues that run the parallel fsyncs of one round.
    private let workers = (0..<8).map { DispatchQueue(label: "broker-fsync-\($0)") }

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
            let batch = pending
            pending.removeAll(keepingCapacity: true)
            condition.unlock()

            // Files are independent: their fsyncs run in parallel (the file system merges
            // concurrent journal commits), so one round costs about one fsync however many
            // partitions wrote. Per file: one fsync per request under `always`, one for all
            // requests under `batch`.
            var perFile: [ObjectIdentifier: (target: any Syncable, count: Int)] = [:]
            var order: [ObjectIdentifier] = []
            for request in batch {
                var seenInRequest = Set<ObjectIdentifier>()
                for target in request.targets where seenInRequest.insert(ObjectIdentifier(target)).inserted {
                    let id = ObjectIdentifier(target)
                    if let entry = perFile[id] {
                        perFile[id] = (entry.target, policy == .always ? entry.count + 1 : 1)
                    } else {
                        perFile[id] = (target, 1)
                        order.append(id)
                    }
                }
            }
            let jobs = order.map { perFile[$0]! }
            let failures = FailureSlots(count: jobs.count)
            let group = DispatchGroup()
            for (i, job) in jobs.enumerated() {
                let target = job.target, count = job.count
                let work: @Sendable () -> Void = { [observe] in
                    for _ in 0..<count {
                        let start = DispatchTime.now().uptimeNanoseconds
                        let err = target.sync()
                        observe(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
                        if err != 0 { failures.set(i, err) }
                    }
                }
                if i == jobs.count - 1 {
                    work()
                } else {
                    workers[i % workers.count].async(group: group, execute: work)
                }
            }
            group.wait()
            let failure = failures.first()
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

/// One errno slot per parallel fsync job; each job writes only its own slot and the
/// coordinator reads them after `DispatchGroup.wait()`.
private final class FailureSlots: @unchecked Sendable {
    private var slots: [Int32]
    init(count: Int) { slots = Array(repeating: 0, count: max(1, count)) }
    func set(_ i: Int, _ err: Int32) { slots.withUnsafeMutableBufferPointer { $0[i] = err } }
    func first() -> Int32 { slots.first { $0 != 0 } ?? 0 }
}
