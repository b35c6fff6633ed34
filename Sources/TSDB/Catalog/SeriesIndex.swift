/// The in-memory mirror of the catalog's series and postings, used on every write (label
/// set → id without touching SQLite) and every query (matchers → ids).
struct SeriesIndex: Sendable {
    /// Labels by series id; id 0 is never used (SQLite rowids start at 1).
    private(set) var labels: [Labels?] = [nil]
    private var byHash: [UInt64: [UInt32]] = [:]
    /// name → value → ascending series ids.
    private(set) var postings: [String: [String: [UInt32]]] = [:]
    private(set) var count = 0

    var maxID: UInt32 { UInt32(labels.count - 1) }

    mutating func add(id: UInt32, labels l: Labels, hash: UInt64) {
        let i = Int(id)
        if labels.count <= i { labels.append(contentsOf: repeatElement(nil, count: i - labels.count + 1)) }
        guard labels[i] == nil else { return }
        labels[i] = l
        count += 1
        byHash[hash, default: []].append(id)
        for pair in l {
            postings[pair.name, default: [:]][pair.value, default: []].insertSorted(id)
        }
    }

    func lookup(_ l: Labels, hash: UInt64) -> UInt32? {
        guard let ids = byHash[hash] else { return nil }
        for id in ids where labels[Int(id)] == l { return id }
        return nil
    }

    func labels(of id: UInt32) -> Labels? {
        Int(id) < labels.count ? labels[Int(id)] : nil
    }

    /// Ids selected by the metric name and matchers, ascending, plus a description of each
    /// step (the most selective posting list first).
    func select(metric: String?, matchers: [LabelMatcher]) -> (ids: [UInt32], steps: [String]) {
        var all = matchers
        if let metric { all.append(LabelMatcher(equal: Labels.metricName, metric)) }
        // Candidate lists from matchers that cannot match a missing label: each is the union
        // of the postings of matching values.
        var candidates: [(matcher: LabelMatcher, ids: [UInt32])] = []
        for m in all where !m.matchesEmpty {
            let values = postings[m.name] ?? [:]
            var ids: [UInt32]
            if m.op == .equal {
                ids = values[m.value] ?? []
            } else {
                var merged: [UInt32] = []
                for (value, list) in values where m.matches(value) { merged.append(contentsOf: list) }
                ids = merged.sorted()
            }
            candidates.append((m, ids))
        }
        candidates.sort { $0.ids.count < $1.ids.count }
        var steps: [String] = []
        var result: [UInt32]
        if let first = candidates.first {
            result = first.ids
            steps.append("postings \(first.matcher): \(first.ids.count) series")
            for c in candidates.dropFirst() {
                result = result.intersectSorted(c.ids)
                steps.append("intersect \(c.matcher) (\(c.ids.count) series): \(result.count) left")
            }
        } else {
            result = (1..<labels.count).compactMap { labels[$0] == nil ? nil : UInt32($0) }
            steps.append("all series: \(result.count)")
        }
        // Matchers that also accept a missing label are checked per series.
        for m in all where m.matchesEmpty {
            result = result.filter { m.matches(labels[Int($0)]?[m.name] ?? "") }
            steps.append("filter \(m): \(result.count) left")
        }
        return (result, steps)
    }

    var labelNames: [String] { postings.keys.sorted() }

    func values(of name: String) -> [String] { (postings[name] ?? [:]).keys.sorted() }
}

extension Array where Element == UInt32 {
    mutating func insertSorted(_ v: UInt32) {
        if let last, last < v { append(v); return }
        var lo = 0, hi = count
        while lo < hi {
            let mid = (lo + hi) / 2
            if self[mid] < v { lo = mid + 1 } else { hi = mid }
        }
        if lo < count, self[lo] == v { return }
        insert(v, at: lo)
    }

    /// The union of two ascending, duplicate-free lists, ascending and duplicate-free.
    func mergeSorted(_ other: [UInt32]) -> [UInt32] {
        if isEmpty { return other }
        if other.isEmpty { return self }
        var out: [UInt32] = []
        out.reserveCapacity(count + other.count)
        var i = 0, j = 0
        while i < count || j < other.count {
            if j == other.count || (i < count && self[i] < other[j]) { out.append(self[i]); i += 1 }
            else if i == count || other[j] < self[i] { out.append(other[j]); j += 1 }
            else { out.append(self[i]); i += 1; j += 1 }
        }
        return out
    }

    func intersectSorted(_ other: [UInt32]) -> [UInt32] {
        var out: [UInt32] = []
        var i = 0, j = 0
        while i < count && j < other.count {
            if self[i] == other[j] { out.append(self[i]); i += 1; j += 1 }
            else if self[i] < other[j] { i += 1 } else { j += 1 }
        }
        return out
    }
}
