/// One sorted run of a series' samples: ascending, unique timestamps.
struct HeadRun: Sendable {
    var timestamps: [Int64] = []
    var values: [Double] = []

    var count: Int { timestamps.count }

    @inline(__always)
    mutating func append(_ t: Int64, _ v: Double) {
        timestamps.append(t)
        values.append(v)
    }
}

/// One series' samples in the head.
///
/// In-order samples (newer than everything stored) append to the main run, `timestamps`
/// and `values`. Out-of-order samples arrive as sorted runs (one per append and series) kept
/// in `runs`, newest last, and merged like a binary counter: a run is merged into the one
/// before it once that one is no more than twice its size. So there are at most about
/// log2(n) runs, every sample is merged O(log n) times, and n samples cost O(n log n) in
/// whatever order they arrive — a reverse-order backfill costs what an in-order one does
/// up to that log factor, instead of an array insert (O(n)) per sample.
///
/// The oldest in-order samples are compressed into `stream` as they age (see
/// HeadColumn+Stream.swift), so only the newest ``rawTail``–2×``rawTail`` samples and the
/// out-of-order runs stay raw.
///
/// Readers see one sorted column through ``flattened()``, which decodes the stream and merges
/// the runs (newest wins on equal timestamps); the engine calls it outside its lock.
struct HeadColumn: Sendable {
    /// The oldest samples, compressed; all older than the main run and the runs.
    var stream = HeadStream()
    /// Out-of-order writes that reached into `stream` and made it raw again: each doubles
    /// ``rawTail``; once there were ``maxUnpacks`` of them the column stays raw until sealed.
    var unpacks: UInt8 = 0
    /// The main run: ascending, unique, newer than `stream`. With `stream` it holds every
    /// sample when `runs` is empty.
    var timestamps: [Int64] = []
    var values: [Double] = []
    /// Newer sorted runs, oldest first; each more than twice the size of the next.
    var runs: [HeadRun] = []
    /// Newest timestamp over all runs (`Int64.min` when empty).
    var maxTime = Int64.min
    /// Distinct timestamps over all runs.
    var count = 0

    init() {}

    init(timestamps: [Int64], values: [Double]) {
        self.timestamps = timestamps
        self.values = values
        maxTime = timestamps.last ?? .min
        count = timestamps.count
    }

    var isEmpty: Bool { count == 0 }

    /// Appends a sample newer than every stored one (the caller checked `t > maxTime`).
    @inline(__always)
    mutating func appendNewest(_ t: Int64, _ v: Double) {
        timestamps.append(t)
        values.append(v)
        maxTime = t
        count += 1
        if timestamps.count >= 2 * rawTail, unpacks < Self.maxUnpacks { compress() }
    }

    /// Replaces the value at the newest timestamp when it lies in the main run (no runs
    /// pending); false when the sample has to go through ``insert(run:work:)``.
    @inline(__always)
    mutating func replaceNewest(_ t: Int64, _ v: Double) -> Bool {
        guard runs.isEmpty, t == maxTime, !values.isEmpty else { return false }
        values[values.count - 1] = v
        return true
    }

    /// Adds a sorted run (ascending, unique) that is newer than what is stored: on equal
    /// timestamps its values win. Returns how many timestamps were new. `work` counts the
    /// samples written by merges and searches (the complexity check of the tests reads it).
    mutating func insert(run: HeadRun, work: inout Int) -> Int {
        guard let first = run.timestamps.first, let last = run.timestamps.last else { return 0 }
        // Out-of-order into the compressed part: the merge below works on raw samples.
        if stream.count > 0, first <= stream.lastTime { unpack(work: &work) }
        if timestamps.isEmpty, stream.count == 0 {
            self = HeadColumn(timestamps: run.timestamps, values: run.values)
            return run.count
        }
        let fresh = run.count - duplicates(of: run, work: &work)
        count += fresh
        if last > maxTime { maxTime = last }
        if runs.isEmpty, first > (timestamps.last ?? .min) {
            timestamps.append(contentsOf: run.timestamps)
            values.append(contentsOf: run.values)
            return fresh
        }
        runs.append(run)
        // Binary-counter merging: the newest run joins the one before it while that one is
        // not more than twice its size; the main run is the oldest.
        while let newest = runs.last {
            let before = runs.count >= 2 ? runs[runs.count - 2].count : timestamps.count
            guard before <= 2 * newest.count else { break }
            runs.removeLast()
            if runs.isEmpty {
                let merged = HeadColumn.merge(older: HeadRun(timestamps: timestamps, values: values), newer: newest)
                work += merged.count
                timestamps = merged.timestamps
                values = merged.values
            } else {
                let merged = HeadColumn.merge(older: runs[runs.count - 1], newer: newest)
                work += merged.count
                runs[runs.count - 1] = merged
            }
        }
        return fresh
    }

    /// How many of the run's timestamps are already stored in some run.
    private func duplicates(of run: HeadRun, work: inout Int) -> Int {
        guard let first = run.timestamps.first, let last = run.timestamps.last else { return 0 }
        var existing: [[Int64]] = []
        if let a = timestamps.first, let b = timestamps.last, a <= last, b >= first { existing.append(timestamps) }
        for r in runs {
            if let a = r.timestamps.first, let b = r.timestamps.last, a <= last, b >= first { existing.append(r.timestamps) }
        }
        guard !existing.isEmpty else { return 0 }
        var dups = 0
        for t in run.timestamps {
            for e in existing {
                work += 1
                if HeadColumn.contains(e, t) { dups += 1; break }
            }
        }
        return dups
    }

    /// Whether readers must call ``flattened()`` before reading `timestamps` and `values`.
    var needsFlattening: Bool { !runs.isEmpty || stream.count > 0 }

    /// The column as one sorted, unique run (itself when nothing is compressed or pending).
    func flattened() -> HeadColumn {
        guard stream.count == 0 else { return unpackedCopy() }
        guard !runs.isEmpty else { return self }
        let raw = flattenedRaw()
        return HeadColumn(timestamps: raw.timestamps, values: raw.values)
    }

    static func contains(_ ts: [Int64], _ t: Int64) -> Bool {
        ts.withUnsafeBufferPointer { p in
            var lo = 0, hi = p.count
            while lo < hi { let m = (lo &+ hi) >> 1; if p[m] < t { lo = m &+ 1 } else { hi = m } }
            return lo < p.count && p[lo] == t
        }
    }

    /// Two sorted, unique runs merged; `newer` wins on equal timestamps.
    static func merge(older: HeadRun, newer: HeadRun) -> HeadRun {
        if older.timestamps.isEmpty { return newer }
        if newer.timestamps.isEmpty { return older }
        let n = older.count, m = newer.count
        var ts = [Int64](repeating: 0, count: n + m)
        var vs = [Double](repeating: 0, count: n + m)
        var k = 0
        ts.withUnsafeMutableBufferPointer { ot in
            vs.withUnsafeMutableBufferPointer { ov in
                older.timestamps.withUnsafeBufferPointer { at in
                    older.values.withUnsafeBufferPointer { av in
                        newer.timestamps.withUnsafeBufferPointer { bt in
                            newer.values.withUnsafeBufferPointer { bv in
                                var i = 0, j = 0
                                while i < n && j < m {
                                    let a = at[i], b = bt[j]
                                    if a < b {
                                        ot[k] = a; ov[k] = av[i]; i &+= 1
                                    } else {
                                        if a == b { i &+= 1 }
                                        ot[k] = b; ov[k] = bv[j]; j &+= 1
                                    }
                                    k &+= 1
                                }
                                while i < n { ot[k] = at[i]; ov[k] = av[i]; i &+= 1; k &+= 1 }
                                while j < m { ot[k] = bt[j]; ov[k] = bv[j]; j &+= 1; k &+= 1 }
                            }
                        }
                    }
                }
            }
        }
        ts.removeLast(n + m - k)
        vs.removeLast(n + m - k)
        return HeadRun(timestamps: ts, values: vs)
    }
}
