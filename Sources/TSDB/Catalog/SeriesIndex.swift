/// The in-memory mirror of the catalog's series and postings, used on every write (label
/// set → id without touching SQLite) and every query (matchers → ids).
///
/// A series' labels are kept as ids of interned (name, value) pairs in one flat array —
/// about 4 bytes a label instead of a 32-byte ``Label`` in an array of its own — and
/// ``labels(of:)`` builds the ``Labels`` when asked (their strings are shared, not copied).
struct SeriesIndex: Sendable {
    /// Every distinct pair once, by pair id; its strings are the postings' keys.
    private var pairs: [Label] = []
    private var pairIDs: [Label: UInt32] = [:]
    /// Series id → where its labels start in `flat` (0: no such series; id 0 is never used,
    /// SQLite rowids start at 1). `flat[start]` is the label count, then the pair ids follow
    /// in label order.
    private var starts: [UInt32] = [0]
    private var flat: [UInt32] = [0]
    /// Series by label hash: the first series of a hash, and the rare later ones.
    private var byHash: [UInt64: UInt32] = [:]
    private var moreByHash: [UInt64: [UInt32]] = [:]
    /// name → value → ascending series ids.
    private(set) var postings: [String: [String: [UInt32]]] = [:]
    /// name → its distinct values in the order they first appeared (only ever appended):
    /// the positions ``RegexMatchCache`` keeps its verdicts by.
    private var valueOrders: [String: [String]] = [:]
    private(set) var count = 0

    var maxID: UInt32 { UInt32(starts.count - 1) }

    mutating func add(id: UInt32, labels l: Labels, hash: UInt64) {
        let i = Int(id)
        if starts.count <= i { starts.append(contentsOf: repeatElement(0, count: i - starts.count + 1)) }
        guard starts[i] == 0 else { return }
        precondition(flat.count + l.count < Int(UInt32.max), "series index over 2^32 labels")
        starts[i] = UInt32(flat.count)
        flat.append(UInt32(l.count))
        for pair in l {
            if let known = pairIDs[pair] {
                flat.append(known)
                postings[pair.name, default: [:]][pair.value, default: []].insertSorted(id)
                continue
            }
            // A new pair: its name (when indexed already) shares the postings' string storage.
            let p = interned(pair)
            let pid = UInt32(pairs.count)
            pairs.append(p)
            pairIDs[p] = pid
            flat.append(pid)
            valueOrders[p.name, default: []].append(p.value)
            postings[p.name, default: [:]][p.value, default: []].insertSorted(id)
        }
        count += 1
        if byHash[hash] == nil { byHash[hash] = id } else { moreByHash[hash, default: []].append(id) }
    }

    /// The pair with the name string the postings already hold, where they do.
    /// (A separate function, so no copy of a postings map outlives it into the mutation.)
    private func interned(_ pair: Label) -> Label {
        guard let n = postings.index(forKey: pair.name) else { return pair }
        return Label(postings.keys[n], pair.value)
    }

    func lookup(_ l: Labels, hash: UInt64) -> UInt32? {
        guard let first = byHash[hash] else { return nil }
        if has(first, l) { return first }
        for id in moreByHash[hash] ?? [] where has(id, l) { return id }
        return nil
    }

    /// Whether series `id` has exactly the labels `l`.
    private func has(_ id: UInt32, _ l: Labels) -> Bool {
        let s = Int(starts[Int(id)])
        guard Int(flat[s]) == l.count else { return false }
        for (k, pair) in l.pairs.enumerated() where pairs[Int(flat[s + 1 + k])] != pair { return false }
        return true
    }

    /// Whether series `id` exists (cheaper than ``labels(of:)``: nothing is built).
    @inline(__always)
    func contains(_ id: UInt32) -> Bool {
        Int(id) < starts.count && starts[Int(id)] != 0
    }

    func labels(of id: UInt32) -> Labels? {
        guard contains(id) else { return nil }
        let s = Int(starts[Int(id)])
        let n = Int(flat[s])
        var out: [Label] = []
        out.reserveCapacity(n)
        for k in 0..<n { out.append(pairs[Int(flat[s + 1 + k])]) }
        return Labels(sortedPairs: out)
    }

    /// Adds the ids of series `id`'s (name, value) pairs to `set` (nothing is built); see
    /// ``pair(_:)``.
    func insertPairIDs(of id: UInt32, into set: inout Set<UInt32>) {
        guard contains(id) else { return }
        let s = Int(starts[Int(id)])
        for k in 0..<Int(flat[s]) { set.insert(flat[s + 1 + k]) }
    }

    /// The interned pair with this id (from ``insertPairIDs(of:into:)``).
    func pair(_ pid: UInt32) -> Label { pairs[Int(pid)] }

    /// Whether series `id` has a label named `name` (nothing is built).
    func hasLabel(_ name: String, _ id: UInt32) -> Bool {
        guard contains(id) else { return false }
        let s = Int(starts[Int(id)])
        for k in 0..<Int(flat[s]) where pairs[Int(flat[s + 1 + k])].name == name { return true }
        return false
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
