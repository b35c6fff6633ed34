import Synchronization

/// Which distinct values of a label a regular expression matches, per (label, pattern),
/// so repeated queries (dashboards refresh the same `=~` every few seconds) match each value
/// once. Verdicts are stored in the order the index first saw each value (an append-only
/// list, see ``SeriesIndex/valueOrder(of:)``); values that appear later are matched on the
/// next use and appended, so an entry never needs invalidating. At most `capacity` entries;
/// past it the oldest entry goes. Matching runs outside this cache's lock and outside the
/// engine's.
final class RegexMatchCache: Sendable {
    private struct Key: Hashable { var name: String; var pattern: String }
    private struct Store { var entries: [Key: [Bool]] = [:]; var order: [Key] = []; var first = 0 }
    private let store = Mutex(Store())
    let capacity: Int

    init(capacity: Int = 1024) {
        self.capacity = max(1, capacity)
    }

    /// The regex's verdict on each of `values` (index-aligned); the result may be longer
    /// when a later index already extended the entry (values are only ever appended).
    func verdicts(_ matcher: LabelMatcher, values: [String], deadline: QueryDeadline) throws(TSDBError) -> [Bool] {
        let key = Key(name: matcher.name, pattern: matcher.value)
        var verdicts = store.withLock { $0.entries[key] } ?? []
        guard verdicts.count < values.count else { return verdicts }
        verdicts.reserveCapacity(values.count)
        var i = verdicts.count
        while i < values.count {
            if i & 1023 == 0 { try deadline.check() }
            verdicts.append(matcher.regexMatches(values[i]))
            i += 1
        }
        let done = verdicts
        store.withLock { s in
            if let existing = s.entries[key] {
                if existing.count < done.count { s.entries[key] = done }
                return
            }
            s.entries[key] = done
            s.order.append(key)
            while s.order.count - s.first > capacity {
                s.entries.removeValue(forKey: s.order[s.first])
                s.first += 1
            }
            if s.first > 4096, s.first * 2 > s.order.count {
                s.order.removeFirst(s.first)
                s.first = 0
            }
        }
        return done
    }

    var count: Int { store.withLock { $0.entries.count } }
}
