import Synchronization

/// Counts the open live streams (SSE subscribers) of one server against
/// ``APIServerConfig/maxStreamSubscribers``; a stream takes a slot before it subscribes and
/// gives it back when it ends, however it ends.
final class StreamSlots: Sendable {
    let limit: Int
    fileprivate let open = Atomic<Int>(0)

    init(limit: Int) { self.limit = limit }

    /// Takes a slot, or returns nil (taking nothing) when all `limit` are in use.
    func acquire() -> Slot? {
        var current = open.load(ordering: .relaxed)
        while current < limit {
            let (exchanged, actual) = open.compareExchange(expected: current, desired: current + 1, ordering: .acquiringAndReleasing)
            if exchanged { return Slot(self) }
            current = actual
        }
        return nil
    }

    /// One taken slot; ``release()`` gives it back once, however often it is called (a
    /// stream ends through its body or through its termination handler, or both).
    final class Slot: Sendable {
        private let owner: StreamSlots
        private let released = Atomic<Bool>(false)
        init(_ owner: StreamSlots) { self.owner = owner }
        func release() {
            if released.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged {
                owner.open.subtract(1, ordering: .acquiringAndReleasing)
            }
        }
    }

    var count: Int { open.load(ordering: .relaxed) }
}
