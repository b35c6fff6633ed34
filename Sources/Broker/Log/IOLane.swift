import Dispatch
import Synchronization

/// A serial lane for one partition's blocking file I/O (pwrite, pread, segment creation,
/// group-state snapshots): the broker's actor hands the syscall to the lane's own thread and
/// suspends, so a slow disk operation on one partition never occupies the actor or the
/// cooperative pool, and other partitions go on meanwhile.
///
/// ```swift
/// let bytes = try await lane.run { try FileIO.pread(fd, count: n, at: position) }
/// ```
final class IOLane: Sendable {
    private let queue: DispatchQueue

    init(label: String) {
        // A serial queue of its own targets the overcommitting root queue: it gets a thread
        // even while other lanes' threads are blocked in the kernel.
        queue = DispatchQueue(label: label)
    }

    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
            queue.async {
                do { c.resume(returning: try body()) } catch { c.resume(throwing: error) }
            }
        }
    }
}

/// The kinds of file operation a fault hook can slow down or observe.
package enum IOOperation: Sendable, Equatable {
    case fsync, write, read
}

/// A test-only hook run before each fsync, write and read of the broker's files (on the
/// thread that performs it), to simulate a slow disk on one partition. Nil in production:
/// then each operation pays one uncontended lock.
package enum IOFaults {
    private static let hook = Mutex<(@Sendable (IOOperation, String) -> Void)?>(nil)

    /// Installs `body` (nil removes it). Match on the path: other tests share the process.
    package static func install(_ body: (@Sendable (IOOperation, String) -> Void)?) {
        hook.withLock { $0 = body }
    }

    static func before(_ operation: IOOperation, _ path: String) {
        if let body = hook.withLock({ $0 }) { body(operation, path) }
    }
}
