import Foundation
import Synchronization

/// Points inside sealing and compaction where tests can inject a fault that cannot be
/// produced for real on demand (a full disk, a catalog error) or stop the process dead.
package enum FaultPoint: String, Sendable, CaseIterable {
    /// Sealing, before the block is written (as if the disk were full).
    case sealWrite = "seal"
    /// Sealing, after the block is renamed into place, before the catalog registers it.
    case sealCatalog = "seal-catalog"
    /// Compaction, after the catalog swapped inputs for the output, before the inputs are unlinked.
    case compactionSwapped = "compaction"
    /// Retention, after the catalog unregistered the blocks, before they are unlinked.
    case retentionRecorded = "retention"
}

/// What an armed fault point does when it is reached.
package enum FaultAction: Sendable, Equatable {
    /// Throw an I/O error the next `times` times.
    case fail(times: Int)
    /// `SIGKILL` this process, as a crash would (for crash tests run in a child process).
    case crash
}

/// Test-only fault hooks, off by default: nothing is armed unless a test (or the
/// crash tests' writer, `telemetry-debug-append --crash-at`) arms it.
package final class FaultInjector: Sendable {
    private let armed = Mutex<[FaultPoint: FaultAction]>([:])

    package init() {}

    package func arm(_ point: FaultPoint, _ action: FaultAction) {
        armed.withLock { $0[point] = action }
    }

    package func disarm(_ point: FaultPoint) {
        _ = armed.withLock { $0.removeValue(forKey: point) }
    }

    /// Throws or kills the process when `point` is armed; otherwise does nothing.
    func reach(_ point: FaultPoint) throws {
        let action: FaultAction? = armed.withLock { a in
            guard let act = a[point] else { return nil }
            if case .fail(let n) = act { a[point] = n > 1 ? .fail(times: n - 1) : nil }
            return act
        }
        switch action {
        case nil: return
        case .crash: kill(getpid(), SIGKILL)
        case .fail: throw TSDBError.io(path: point.rawValue, message: "injected fault at \(point.rawValue)")
        }
    }
}
