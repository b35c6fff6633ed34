/// One series' samples in the head: sorted by time, unique timestamps.
struct HeadColumn: Sendable {
    var timestamps: [Int64] = []
    var values: [Double] = []

    /// Inserts in time order; an equal timestamp replaces the value (last write wins).
    @inline(__always)
    mutating func insert(_ t: Int64, _ v: Double) -> Bool {
        if let last = timestamps.last {
            if t > last {
                timestamps.append(t)
                values.append(v)
                return true
            }
            if t == last {
                values[values.count - 1] = v
                return false
            }
        } else {
            timestamps.append(t)
            values.append(v)
            return true
        }
        var lo = 0, hi = timestamps.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if timestamps[mid] < t { lo = mid + 1 } else { hi = mid }
        }
        if timestamps[lo] == t {
            values[lo] = v
            return false
        }
        timestamps.insert(t, at: lo)
        values.insert(v, at: lo)
        return true
    }
}

/// The in-memory, mutable part of the database: per-series open columns that are sealed
/// into a block when they span the block duration (or on flush).
struct Head: Sendable {
    var columns: [HeadColumn] = []
    var samples = 0
    var minTime = Int64.max
    var maxTime = Int64.min

    var isEmpty: Bool { samples == 0 }

    mutating func ensure(_ id: UInt32) {
        let i = Int(id)
        if columns.count <= i { columns.append(contentsOf: repeatElement(HeadColumn(), count: i - columns.count + 1)) }
    }

    @inline(__always)
    mutating func append(_ id: UInt32, _ t: Int64, _ v: Double) {
        if columns[Int(id)].insert(t, v) { samples += 1 }
        if t < minTime { minTime = t }
        if t > maxTime { maxTime = t }
    }

    func column(_ id: UInt32) -> HeadColumn? {
        let i = Int(id)
        guard i < columns.count, !columns[i].timestamps.isEmpty else { return nil }
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
