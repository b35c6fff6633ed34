/// One consumer group's view of one partition.
///
/// - Everything below `committed` is acked; `acked` holds the acked offsets above it.
/// - `cursor`: every offset below it has been delivered at least once since start (or acked).
/// - `inFlight`: delivered, unacked offsets with their delivery count; each delivery also
///   queues an expiry entry. Deadlines are `now + visibilityTimeout` with one timeout per
///   broker, so the queue is ordered by deadline and the next redelivery time is its head.
final class ConsumerGroup {
    struct Expiry {
        let deadline: ContinuousClock.Instant
        let offset: UInt64
        let delivery: Int
    }

    let name: String
    let state: GroupStateFile
    private(set) var committed: UInt64
    private(set) var acked: Set<UInt64>
    var cursor: UInt64
    private(set) var inFlight: [UInt64: Int] = [:]
    /// In-flight offsets whose ack is being written: their visibility deadline passing
    /// meanwhile neither redelivers nor dead-letters them.
    var acking = Set<UInt64>()
    private var expiry: [Expiry] = []
    private var expiryHead = 0

    init(name: String, state: GroupStateFile, committed: UInt64, acked: Set<UInt64>) {
        self.name = name
        self.state = state
        self.committed = committed
        self.acked = acked
        self.cursor = committed
    }

    func isSettled(_ offset: UInt64) -> Bool { offset < committed || acked.contains(offset) }

    /// Moves the cursor and the committed offset past records that no longer exist.
    func skip(below start: UInt64) {
        if committed < start {
            committed = start
            acked = acked.filter { $0 >= start }
            advanceCommitted()
        }
        if cursor < committed { cursor = committed }
    }

    /// Records a delivery of `offset`; returns its delivery number (1 for the first).
    func deliver(_ offset: UInt64, now: ContinuousClock.Instant, timeout: Duration) -> Int {
        let delivery = (inFlight[offset] ?? 0) + 1
        inFlight[offset] = delivery
        expiry.append(Expiry(deadline: now + timeout, offset: offset, delivery: delivery))
        return delivery
    }

    /// In-flight records whose visibility deadline passed, with their delivery count so far.
    func takeExpired(now: ContinuousClock.Instant, max: Int) -> [(offset: UInt64, deliveries: Int)] {
        var out: [(UInt64, Int)] = []
        while expiryHead < expiry.count, out.count < max {
            let e = expiry[expiryHead]
            if inFlight[e.offset] != e.delivery {  // acked or redelivered since: stale entry
                expiryHead += 1
                continue
            }
            guard e.deadline <= now else { break }
            guard !acking.contains(e.offset) else { break }  // settles in a moment; look again then
            out.append((e.offset, e.delivery))
            expiryHead += 1
        }
        compactExpiry()
        return out
    }

    /// The earliest moment an in-flight record becomes visible again.
    func nextDeadline() -> ContinuousClock.Instant? {
        while expiryHead < expiry.count {
            let e = expiry[expiryHead]
            if inFlight[e.offset] == e.delivery {
                // An ack being written holds the head back: look again shortly, do not spin.
                return acking.contains(e.offset) ? max(e.deadline, ContinuousClock.now + .milliseconds(5)) : e.deadline
            }
            expiryHead += 1
        }
        compactExpiry()
        return nil
    }

    /// Marks `offset` settled in memory; returns false when it already was.
    func settle(_ offset: UInt64) -> Bool {
        inFlight[offset] = nil
        if offset == committed {  // the common, in-order case: no set traffic
            committed += 1
            if !acked.isEmpty { advanceCommitted() }
            return true
        }
        guard !isSettled(offset) else { return false }
        acked.insert(offset)
        return true
    }

    /// Forgets a delivery that could not be written (so it is delivered again at once).
    func undeliver(_ offset: UInt64) {
        inFlight[offset] = nil
    }

    /// Returns an offset that was taken from the expiry queue to the in-flight set unchanged.
    func isInFlight(_ offset: UInt64) -> Bool { inFlight[offset] != nil }

    var pendingCount: Int { inFlight.count }

    /// Records below `end` not yet acked.
    func lag(end: UInt64) -> Int {
        end > committed ? Int(end - committed) - acked.count : 0
    }

    private func advanceCommitted() {
        while acked.remove(committed) != nil { committed += 1 }
    }

    private func compactExpiry() {
        if expiryHead > 1024 && expiryHead * 2 > expiry.count {
            expiry.removeFirst(expiryHead)
            expiryHead = 0
        } else if expiryHead == expiry.count && expiryHead > 0 {
            expiry.removeAll(keepingCapacity: true)
            expiryHead = 0
        }
    }
}
