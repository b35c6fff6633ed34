/// The in-memory, mutable part of the database: per-series open columns that are sealed
/// into a block when they span the block duration (or on flush).
struct Head: Sendable {
    var columns: [HeadColumn] = []
    /// Distinct (series, timestamp) pairs held.
    var samples = 0
    var minTime = Int64.max
    var maxTime = Int64.min
    /// Samples written by out-of-order merges and duplicate searches since the head was
    /// created: what out-of-order writes cost, counted instead of timed (see the tests).
    var mergeWork = 0

    var isEmpty: Bool { samples == 0 }

    mutating func ensure(_ id: UInt32) {
        let i = Int(id)
        if columns.count <= i { columns.append(contentsOf: repeatElement(HeadColumn(), count: i - columns.count + 1)) }
    }

    /// Appends a batch whose samples are in non-decreasing time order per series (see
    /// ``SampleBatch/orderedPerSeries()``); a later sample of a series wins on an equal
    /// timestamp. Samples newer than their column append in place; the others are gathered
    /// into one sorted run per series and merged (``HeadColumn/insert(run:work:)``), so the
    /// work is linear in the batch plus the amortised merges — never an insert per sample.
    mutating func append(_ batch: SampleBatch) {
        var pending: [UInt32: HeadRun] = [:]
        batch.refs.withUnsafeBufferPointer { refs in
            batch.timestamps.withUnsafeBufferPointer { ts in
                batch.values.withUnsafeBufferPointer { vs in
                    var lo = minTime, hi = maxTime
                    for i in 0..<refs.count {
                        let id = refs[i], t = ts[i], v = vs[i]
                        if t < lo { lo = t }
                        if t > hi { hi = t }
                        let k = Int(id)
                        if t > columns[k].maxTime {
                            columns[k].appendNewest(t, v)
                            samples &+= 1
                        } else if !columns[k].replaceNewest(t, v) {
                            pending[id, default: HeadRun()].append(t, v)
                        }
                    }
                    minTime = lo
                    maxTime = hi
                }
            }
        }
        guard !pending.isEmpty else { return }
        for (id, run) in pending {
            samples &+= columns[Int(id)].insert(run: Self.lastWins(run), work: &mergeWork)
        }
    }

    /// A non-decreasing run made unique: of equal timestamps the last one stays.
    static func lastWins(_ run: HeadRun) -> HeadRun {
        let ts = run.timestamps
        var hasDuplicate = false
        for i in ts.indices.dropFirst() where ts[i] == ts[i - 1] { hasDuplicate = true; break }
        guard hasDuplicate else { return run }
        var out = HeadRun()
        out.timestamps.reserveCapacity(ts.count)
        out.values.reserveCapacity(ts.count)
        for i in ts.indices {
            if i + 1 < ts.count, ts[i + 1] == ts[i] { continue }
            out.append(ts[i], run.values[i])
        }
        return out
    }

    /// The column of a series as it is stored (runs possibly pending; see ``HeadColumn/flattened()``).
    func column(_ id: UInt32) -> HeadColumn? {
        let i = Int(id)
        guard i < columns.count, !columns[i].isEmpty else { return nil }
        return columns[i]
    }
}

/// A head being written out as a block: still visible to queries until its block is
/// registered, then dropped.
struct FrozenHead: Sendable {
    var head: Head
    var priority: Int64
    var walBoundary: Int
}
