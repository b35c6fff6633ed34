/// The in-memory mirror of the catalog's series and postings, used on every write (label
/// set → id without touching SQLite) and every query (matchers → ids).
struct SeriesIndex: Sendable {
    /// Labels by series id; id 0 is never used (SQLite rowids start at 1).
    private(set) var labels: [Labels?] = [nil]
    private var byHash: [UInt64: [UInt32]] = [:]
    /// name → value → ascending series ids.
    private(set) var postings: [String: [String: [UInt32]]] = [:]
    /// name → its distinct values in the order they first appeared (only ever appended):
    /// the positions ``RegexMatchCache`` keeps its verdicts by.
    private var valueOrders: [String: [String]] = [:]
    private(set) var count = 0

    var maxID: UInt32 { UInt32(labels.count - 1) }

    mutating func add(id: UInt32, labels l: Labels, hash: UInt64) {
        let i = Int(id)
        if labels.count <= i { labels.append(contentsOf: repeatElement(nil, count: i - labels.count + 1)) }
        guard labels[i] == nil else { return }
        // Names and values already indexed share the postings' string storage, so a series
        // costs its label array, not a heap string per long value (UUIDs, pods, models).
        var pairs: [Label] = []
        pairs.reserveCapacity(l.count)
        for pair in l { pairs.append(interned(pair)) }
        labels[i] = Labels(sortedPairs: pairs)
        count += 1
        byHash[hash, default: []].append(id)
        for pair in pairs {
            if postings[pair.name]?[pair.value] == nil { valueOrders[pair.name, default: []].append(pair.value) }
            postings[pair.name, default: [:]][pair.value, default: []].insertSorted(id)
        }
    }

    /// The pair with the name and value strings the postings already hold, where they do.
    /// (A separate function, so no copy of a postings map outlives it into the mutation.)
    private func interned(_ pair: Label) -> Label {
        guard let n = postings.index(forKey: pair.name) else { return pair }
        let values = postings.values[n]
        guard let v = values.index(forKey: pair.value) else { return Label(postings.keys[n], pair.value) }
        return Label(postings.keys[n], values.keys[v])
    }

    func lookup(_ l: Labels, hash: UInt64) -> UInt32? {
        guard let ids = byHash[hash] else { return nil }
        for id in ids where labels[Int(id)] == l { return id }
        return nil
    }

    func labels(of id: UInt32) -> Labels? {
        Int(id) < labels.count ? labels[Int(id)] : nil
    }

    /// What ``Selector`` needs to resolve these matchers, in O(matchers): the posting maps
    /// of the labels they name (copy-on-write references, not copies). The matching itself
    /// — regexes included — then runs outside the engine lock.
    func selectionInput(metric: String?, matchers: [LabelMatcher]) -> SelectionInput {
        var all = matchers
        if let metric { all.append(LabelMatcher(equal: Labels.metricName, metric)) }
        let terms = all.map { m in
            SelectionInput.Term(matcher: m, postings: postings[m.name] ?? [:], values: m.isRegex ? valueOrders[m.name] ?? [] : [])
        }
        return SelectionInput(terms: terms, metricPostings: postings[Labels.metricName] ?? [:])
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
