import Primitives
import TSDB

/// The series of a batch that a ``LabelBytesCache`` did not know: their labels (built
/// once per new series, not per sample) and the batch positions waiting for their refs.
struct PendingSeries: Sendable {
    private var missing: [(index: Int, series: Int)] = []
    private var keys: [(hash: UInt64, key: [UInt8], split: Int?)] = []
    private var labels: [Labels] = []
    private var index: [[UInt8]: Int] = [:]

    var isEmpty: Bool { missing.isEmpty }

    /// Records that batch position `position` waits for the series of `key`; `make` runs only
    /// the first time a request names that key (its error, if any, is the series' error).
    /// `split`: `key` is a two-part key (see ``LabelBytesCache/insert(_:_:split:_:)``).
    mutating func add<E: Error>(hash: UInt64, key: [UInt8], split: Int? = nil, at position: Int, labels make: () throws(E) -> Labels) throws(E) {
        let series: Int
        if let known = index[key] {
            series = known
        } else {
            let made = try make()
            series = labels.count
            index[key] = series
            keys.append((hash, key, split))
            labels.append(made)
        }
        missing.append((position, series))
    }

    /// Fills in the refs of the waiting positions (one ``TSDB/resolve(_:)`` call) and caches them.
    mutating func resolve(into batch: inout SampleBatch, db: TSDB, cache: LabelBytesCache) throws {
        guard !missing.isEmpty else { return }
        let resolved = try db.resolve(labels)
        guard resolved.count == labels.count else {
            throw TSDBError.catalog("resolved \(resolved.count) of \(labels.count) new series")
        }
        for m in missing { batch.refs[m.index] = resolved[m.series].id }
        for (i, k) in keys.enumerated() { cache.insert(k.hash, k.key, split: k.split, resolved[i].id) }
        self = PendingSeries()
    }
}
