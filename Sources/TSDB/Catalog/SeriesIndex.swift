/// The in-memory mirror of the catalog's series and postings, used on every write (label
/// set → id without touching SQLite) and every query (matchers → ids).
///
/// A series' labels are kept as ids of interned (name, value) pairs in one flat array —
/// about 4 bytes a label instead of a 32-byte ``Label`` in an array of its own — and
/// ``labels(of:)`` builds the ``Labels`` when asked (their strings are shared, not copied).
/// A query takes ``view`` under the engine lock (O(1)) and builds what it needs after.
struct SeriesIndex: Sendable {
    /// The pairs and the series' pair ids; see ``SeriesLabelView``.
    private(set) var view = SeriesLabelView()
    private var pairIDs: [Label: UInt32] = [:]
    /// Series by label hash: the first series of a hash, and the rare later ones.
    private var byHash: [UInt64: UInt32] = [:]
    private var moreByHash: [UInt64: [UInt32]] = [:]
    /// name → value → ascending series ids.
    private(set) var postings: [String: [String: [UInt32]]] = [:]
    /// name → its distinct values in the order they first appeared (only ever appended):
    /// the positions ``RegexMatchCache`` keeps its verdicts by.
    private var valueOrders: [String: [String]] = [:]
    private(set) var count = 0

    var maxID: UInt32 { UInt32(view.starts.count - 1) }

    mutating func add(id: UInt32, labels l: Labels, hash: UInt64) {
        let i = Int(id)
        if view.starts.count <= i { view.starts.grow(to: i + 1, with: 0) }
        guard view.starts[i] == 0 else { return }
        precondition(view.flat.count + l.count < Int(UInt32.max), "series index over 2^32 labels")
        view.starts[i] = UInt32(view.flat.count)
        view.flat.append(UInt32(l.count))
        for pair in l {
            if let known = pairIDs[pair] {
                view.flat.append(known)
                postings[pair.name, default: [:]][pair.value, default: []].insertSorted(id)
                continue
            }
            // A new pair: its name (when indexed already) shares the postings' string storage.
            let p = interned(pair)
            let pid = UInt32(view.pairs.count)
            view.pairs.append(p)
            pairIDs[p] = pid
            view.flat.append(pid)
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
        let s = Int(view.starts[Int(id)])
        guard Int(view.flat[s]) == l.count else { return false }
        for (k, pair) in l.pairs.enumerated() where view.pairs[Int(view.flat[s + 1 + k])] != pair { return false }
        return true
    }

    /// Whether series `id` exists (cheaper than ``labels(of:)``: nothing is built).
    @inline(__always)
    func contains(_ id: UInt32) -> Bool { view.contains(id) }

    func labels(of id: UInt32) -> Labels? { view.labels(of: id) }

    /// Whether series `id` has a label named `name` (nothing is built).
    func hasLabel(_ name: String, _ id: UInt32) -> Bool { view.hasLabel(name, id) }

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

/// The series' labels as pair ids, with the pairs they name: what a query needs to build any
/// series' ``Labels`` (or only the labels it groups by) after it let go of the engine lock.
/// Copying one is O(1). Its storage is paged, so a series added while a query still holds a
/// copy costs the index a copy of one page, not of every series' labels.
struct SeriesLabelView: Sendable {
    /// Every distinct pair once, by pair id; its strings are the postings' keys.
    fileprivate(set) var pairs = PagedArray<Label>()
    /// Series id → where its labels start in `flat` (0: no such series; id 0 is never used,
    /// SQLite rowids start at 1). `flat[start]` is the label count, then the pair ids follow
    /// in label order.
    fileprivate(set) var starts = PagedArray<UInt32>(first: 0)
    fileprivate(set) var flat = PagedArray<UInt32>(first: 0)

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

    /// The interned pair with this id (from ``insertPairIDs(of:into:)``).
    func pair(_ pid: UInt32) -> Label { pairs[Int(pid)] }

    /// Adds the ids of series `id`'s (name, value) pairs to `set` (nothing is built).
    func insertPairIDs(of id: UInt32, into set: inout Set<UInt32>) {
        guard contains(id) else { return }
        let s = Int(starts[Int(id)])
        for k in 0..<Int(flat[s]) { set.insert(flat[s + 1 + k]) }
    }

    /// Whether series `id` has a label named `name` (nothing is built).
    func hasLabel(_ name: String, _ id: UInt32) -> Bool {
        guard contains(id) else { return false }
        let s = Int(starts[Int(id)])
        for k in 0..<Int(flat[s]) where pairs[Int(flat[s + 1 + k])].name == name { return true }
        return false
    }

    /// `labels(of: id)?.keeping(names)`, building only the kept pairs.
    func labels(of id: UInt32, keeping names: [String]) -> Labels? {
        guard contains(id) else { return nil }
        let s = Int(starts[Int(id)])
        var out: [Label] = []
        out.reserveCapacity(names.count)
        for k in 0..<Int(flat[s]) {
            let p = pairs[Int(flat[s + 1 + k])]
            if names.contains(p.name) { out.append(p) }
        }
        return Labels(sortedPairs: out)
    }

    /// The ids of the pairs ``labels(of:keeping:)`` keeps, in label order, into `key`
    /// (emptied first; nothing when there is no such series).
    func pairIDs(of id: UInt32, keeping names: [String], into key: inout [UInt32]) {
        key.removeAll(keepingCapacity: true)
        guard contains(id) else { return }
        let s = Int(starts[Int(id)])
        for k in 0..<Int(flat[s]) {
            let pid = flat[s + 1 + k]
            if names.contains(pairs[Int(pid)].name) { key.append(pid) }
        }
    }

    /// `labels(of: id)?.canonicalBytes.count`, without building either.
    func canonicalByteCount(of id: UInt32) -> Int {
        guard contains(id) else { return 0 }
        let s = Int(starts[Int(id)])
        var n = 0
        for k in 0..<Int(flat[s]) {
            let p = pairs[Int(flat[s + 1 + k])]
            n += p.name.utf8.count + p.value.utf8.count + 2
        }
        return n
    }
}

/// An append-mostly array kept in fixed pages: a copy shares every page, and a write to a
/// shared copy duplicates only the page it touches (and the short list of pages).
struct PagedArray<Element: Sendable>: Sendable {
    private static var pageShift: Int { 14 }
    private static var pageSize: Int { 1 << pageShift }
    private var pages: [[Element]] = []
    private(set) var count = 0

    init() {}
    init(first: Element) { append(first) }

    subscript(i: Int) -> Element {
        get { pages[i >> Self.pageShift][i & (Self.pageSize - 1)] }
        set { pages[i >> Self.pageShift][i & (Self.pageSize - 1)] = newValue }
    }

    mutating func append(_ x: Element) {
        if count & (Self.pageSize - 1) == 0 {
            var page: [Element] = []
            page.reserveCapacity(Self.pageSize)
            pages.append(page)
        }
        pages[pages.count - 1].append(x)
        count += 1
    }

    /// Appends `x` until there are `n` elements.
    mutating func grow(to n: Int, with x: Element) {
        while count < n { append(x) }
    }
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
