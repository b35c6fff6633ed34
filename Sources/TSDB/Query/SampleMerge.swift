/// Merging the samples of one series from several sources, oldest source first: the result
/// is sorted by time, and on equal timestamps the newest source's value wins.
enum SampleMerge {
    static func merge(_ sources: [(ts: [Int64], vs: [Double])]) -> ([Int64], [Double]) {
        if sources.count == 1 { return (sources[0].ts, sources[0].vs) }
        if sources.isEmpty { return ([], []) }
        // Fast path: sources that do not overlap in time are concatenated in time order.
        let sorted = sources.enumerated().sorted { ($0.element.ts.first ?? 0, $0.offset) < ($1.element.ts.first ?? 0, $1.offset) }
        var disjoint = true
        for k in 1..<sorted.count where (sorted[k - 1].element.ts.last ?? 0) >= (sorted[k].element.ts.first ?? 0) {
            disjoint = false
            break
        }
        if disjoint {
            var ts: [Int64] = [], vs: [Double] = []
            for s in sorted { ts.append(contentsOf: s.element.ts); vs.append(contentsOf: s.element.vs) }
            return (ts, vs)
        }
        var acc = sources[0]
        for next in sources.dropFirst() { acc = mergeTwo(acc, next) }
        return (acc.ts, acc.vs)
    }

    /// Two sorted, unique sources; `newer` wins on equal timestamps.
    private static func mergeTwo(_ older: (ts: [Int64], vs: [Double]), _ newer: (ts: [Int64], vs: [Double])) -> (ts: [Int64], vs: [Double]) {
        var ts: [Int64] = [], vs: [Double] = []
        ts.reserveCapacity(older.ts.count + newer.ts.count)
        vs.reserveCapacity(older.ts.count + newer.ts.count)
        var i = 0, j = 0
        while i < older.ts.count || j < newer.ts.count {
            if j == newer.ts.count || (i < older.ts.count && older.ts[i] < newer.ts[j]) {
                ts.append(older.ts[i]); vs.append(older.vs[i]); i += 1
            } else {
                if i < older.ts.count, older.ts[i] == newer.ts[j] { i += 1 }
                ts.append(newer.ts[j]); vs.append(newer.vs[j]); j += 1
            }
        }
        return (ts, vs)
    }
}
