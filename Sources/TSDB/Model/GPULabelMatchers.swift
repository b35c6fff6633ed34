/// Label matchers that read GPU labels through ``GPULabelAliases``: a filter on the host
/// matches `Hostname`, `hostname` and `host` alike, one on the UUID `UUID` and `uuid`, and so
/// on for index, device, model, namespace, pod and container, with the table's precedence
/// (the first alias a series carries is its value, as in the inventory).
///
/// A matcher on a label outside the table stays as it is. Since a query's matchers are a
/// conjunction, an aliased filter becomes a disjunction of conjunctions ("`Hostname` is x, or
/// there is no `Hostname` and `hostname` is x, or …"); the alternatives of one matcher are
/// mutually exclusive, so their results never overlap. Alternatives that need a label the
/// database does not have are dropped, so data written with one spelling costs one query.
///
/// ```swift
/// let m = try LabelMatcher("host", .equal, "node-7")
/// GPULabelMatchers.alternatives([m], labelNames: ["__name__", "Hostname", "hostname"])
/// // [[Hostname="node-7"], [Hostname="", hostname="node-7"]]
/// ```
public enum GPULabelMatchers {
    /// The alias groups of ``GPULabelAliases`` a filter may name.
    public static let groups: [[String]] = [
        GPULabelAliases.uuid, GPULabelAliases.hostname, GPULabelAliases.index, GPULabelAliases.device,
        GPULabelAliases.model, GPULabelAliases.namespace, GPULabelAliases.pod, GPULabelAliases.container,
    ]

    /// The most alternatives one query expands to; past it, the matchers are an error.
    public static let maxAlternatives = 64

    /// The alias group `name` belongs to (nil: not a GPU label).
    public static func group(of name: String) -> [String]? {
        groups.first { $0.contains(name) }
    }

    /// The disjunction of matcher lists equivalent to `matchers` read through the alias table.
    /// `labelNames` (every label name the database holds; nil: assume all) prunes alternatives
    /// that cannot match. One element, equal to `matchers`, when no GPU label is involved.
    ///
    /// - Throws: ``TSDBError/invalidQuery(_:)`` past ``maxAlternatives``.
    public static func alternatives(_ matchers: [LabelMatcher], labelNames: Set<String>? = nil) throws(TSDBError) -> [[LabelMatcher]] {
        var result: [[LabelMatcher]] = [[]]
        for m in matchers {
            let options = try expand(m, labelNames: labelNames)
            var next: [[LabelMatcher]] = []
            for prefix in result { for option in options { next.append(prefix + option) } }
            result = next
            guard result.count <= maxAlternatives else {
                throw .invalidQuery("the filters on GPU labels expand to more than \(maxAlternatives) label spellings; filter on fewer of host, UUID, GPU index, namespace and pod at once")
            }
        }
        return result
    }

    /// One matcher's alternatives (mutually exclusive conjunctions).
    static func expand(_ m: LabelMatcher, labelNames: Set<String>?) throws(TSDBError) -> [[LabelMatcher]] {
        guard let names = group(of: m.name) else { return [[m]] }
        let present = names.filter { labelNames?.contains($0) ?? true }
        var out: [[LabelMatcher]] = []
        for (i, name) in present.enumerated() {
            // Earlier spellings absent (they would win), this one matching.
            var conj = try present[..<i].map { n throws(TSDBError) in try LabelMatcher(n, .equal, "") }
            if m.matchesEmpty {
                // The matcher also accepts a missing label: require this one present here, and
                // cover "no spelling at all" once below.
                conj.append(try LabelMatcher(name, .notEqual, ""))
            }
            conj.append(try LabelMatcher(name, m.op, m.value))
            out.append(conj)
        }
        if m.matchesEmpty {
            out.append(try present.map { n throws(TSDBError) in try LabelMatcher(n, .equal, "") })
        }
        // No spelling of the label exists: a matcher that needs it matches nothing.
        return out
    }
}
