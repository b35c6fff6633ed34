import Primitives

/// The index's share of resolving matchers, taken under the engine lock (see
/// ``SeriesIndex/selectionInput(metric:matchers:)``).
struct SelectionInput: Sendable {
    struct Term: Sendable {
        var matcher: LabelMatcher
        /// value → ascending series ids, for the matcher's label.
        var postings: [String: [UInt32]]
        /// The label's distinct values in first-seen order (regex matchers only).
        var values: [String]
    }

    var terms: [Term]
    /// Postings of `__name__`: every series has a metric name, so their union is every series.
    var metricPostings: [String: [UInt32]]
}

/// Resolves label matchers to series ids from a ``SelectionInput``, outside the engine lock.
/// Matchers that cannot match a missing label give candidate lists (the union of the
/// postings of the values they match), intersected cheapest first; matchers that also match
/// a missing label then remove the series whose value they reject. A regex is evaluated once
/// per distinct label value (through ``RegexMatchCache``), never once per series.
enum Selector {
    /// `metrics`, when not empty, is a set of metric names: its candidates are the union of
    /// their `__name__` postings (one merge of sorted lists, no regex).
    static func select(_ input: SelectionInput, metrics: [String] = [], cache: RegexMatchCache, deadline: QueryDeadline) throws(TSDBError) -> (ids: [UInt32], steps: [String]) {
        var candidates: [(label: String, ids: [UInt32])] = []
        if !metrics.isEmpty {
            var union: [UInt32] = []
            for name in Set(metrics) { union = union.mergeSorted(input.metricPostings[name] ?? []) }
            candidates.append(("\(Labels.metricName) in {\(metrics.joined(separator: ","))}", union))
        }
        var filters: [(matcher: LabelMatcher, rejected: [UInt32])] = []
        for term in input.terms {
            let m = term.matcher
            if m.op == .equal, !m.value.isEmpty {
                candidates.append((m.description, term.postings[m.value] ?? []))
                continue
            }
            let accepts = try acceptor(term, cache: cache, deadline: deadline)
            // Lists of distinct values of one label are disjoint: a series has one value.
            var ids: [UInt32] = []
            if m.matchesEmpty {
                for (value, list) in term.postings where !accepts(value) { ids.append(contentsOf: list) }
                ids.sort()
                filters.append((m, ids))
            } else {
                for (value, list) in term.postings where accepts(value) { ids.append(contentsOf: list) }
                ids.sort()
                candidates.append((m.description, ids))
            }
        }
        candidates.sort { $0.ids.count < $1.ids.count }
        var steps: [String] = []
        var result: [UInt32]
        if let first = candidates.first {
            result = first.ids
            steps.append("postings \(first.label): \(first.ids.count) series")
            for c in candidates.dropFirst() {
                try deadline.check()
                result = result.intersectSorted(c.ids)
                steps.append("intersect \(c.label) (\(c.ids.count) series): \(result.count) left")
            }
        } else {
            result = []
            for list in input.metricPostings.values { result.append(contentsOf: list) }
            result.sort()
            steps.append("all series: \(result.count)")
        }
        for f in filters {
            try deadline.check()
            result = result.subtractingSorted(f.rejected)
            steps.append("filter \(f.matcher): \(result.count) left")
        }
        return (result, steps)
    }

    /// Whether the matcher accepts a present (non-empty) value of its label.
    private static func acceptor(_ term: SelectionInput.Term, cache: RegexMatchCache, deadline: QueryDeadline) throws(TSDBError) -> (String) -> Bool {
        let m = term.matcher
        switch m.op {
        case .equal: return { $0 == m.value }
        case .notEqual: return { $0 != m.value }
        case .regex, .notRegex:
            let verdicts = try cache.verdicts(m, values: term.values, deadline: deadline)
            var matching = Set<String>()
            for (i, value) in term.values.enumerated() where verdicts[i] { matching.insert(value) }
            // A value the captured order lacks cannot be in the captured postings either.
            return m.op == .regex ? { matching.contains($0) } : { !matching.contains($0) }
        }
    }
}

extension Array where Element == UInt32 {
    /// The sorted elements of `self` not in `other` (both ascending).
    func subtractingSorted(_ other: [UInt32]) -> [UInt32] {
        guard !other.isEmpty else { return self }
        var out: [UInt32] = []
        out.reserveCapacity(count)
        var j = 0
        for v in self {
            while j < other.count, other[j] < v { j += 1 }
            if j < other.count, other[j] == v { continue }
            out.append(v)
        }
        return out
    }
}

/// The selector syntax every front end shares (the query routes' `match[]`, Grafana targets,
/// the `query` command's `--match`): a braced, comma-separated list of PromQL-style matchers
/// (`{Hostname="a",gpu=~"0|1"}`), optionally after a metric name. PromQL expressions have
/// their own grammar (Sources/PromQL) and build ``LabelMatcher``s directly.
package enum SelectorSyntax {
    /// Splits one `match[]` value into matcher texts (one matcher, or a braced list); commas
    /// inside quotes belong to the value, and `\"` / `\\` in a quoted value are undone.
    package static func split(_ text: String) throws(TSDBError) -> [String] {
        var body = Substring(text)
        if body.first == "{" {
            guard body.last == "}" else { throw .invalidQuery("match[] \"\(text)\" opens { without closing }") }
            body = body.dropFirst().dropLast()
        }
        var out: [String] = []
        var current = ""
        var inQuotes = false
        var escaped = false
        for c in body {
            if escaped { current.append(c); escaped = false; continue }
            if c == "\\" && inQuotes { escaped = true; current.append(c); continue }
            if c == "\"" { inQuotes.toggle() }
            if c == "," && !inQuotes {
                if !current.isEmpty { out.append(current) }
                current = ""
                continue
            }
            current.append(c)
        }
        if inQuotes { throw .invalidQuery("match[] \"\(text)\" has an unterminated quote") }
        if !current.isEmpty { out.append(current) }
        return out.map(unescapeValue)
    }

    /// Parses one `match[]` value into matchers.
    package static func matchers(_ text: String) throws(TSDBError) -> [LabelMatcher] {
        var out: [LabelMatcher] = []
        for m in try split(text) { out.append(try LabelMatcher(parsing: m)) }
        return out
    }

    /// `metric`, `metric{label="v",…}` or `{…}`: the metric (nil when absent) and the matchers.
    package static func selector(_ text: String) throws(TSDBError) -> (String?, [LabelMatcher]) {
        guard let brace = text.firstIndex(of: "{") else { return (text, []) }
        let metric = String(text[..<brace]).trimmingWhitespace()
        return (metric.isEmpty ? nil : metric, try matchers(String(text[brace...])))
    }

    /// Undoes `\"` and `\\` inside the quoted value of a matcher.
    static func unescapeValue(_ m: String) -> String {
        guard m.contains("\\") else { return m }
        var out = ""
        var escaped = false
        for c in m {
            if escaped { out.append(c); escaped = false } else if c == "\\" { escaped = true } else { out.append(c) }
        }
        return out
    }
}
