import Ingest
import TSDB

/// Grafana's ad-hoc filters (`filters`, `adhocFilters`) as label matchers. Every operator the
/// JSON plugin and Grafana 10/11 send is handled: `=`, `!=`, `=~`, `!~`; `=|` / `!=|` (one of
/// several `values`); `<` / `>` (numeric, against the label's known values). A filter this
/// server cannot apply is skipped with a warning, never a 400 that fails the whole panel.
struct GrafanaFilters {
    private(set) var matchers: [LabelMatcher] = []
    private(set) var warnings: [String] = []
    /// A numeric filter no label value satisfies: the query has no series.
    private(set) var matchesNothing = false

    mutating func add(_ item: JSONValue, db: TSDB) throws {
        guard let key = item["key"]?.string, !key.isEmpty, let op = item["operator"]?.string else {
            warnings.append("an ad-hoc filter without \"key\" and \"operator\" was ignored")
            return
        }
        let values = item["values"]?.strings ?? item["value"]?.strings ?? []
        let value = item["value"]?.scalarString ?? values.first
        switch op {
        case "=", "!=", "=~", "!~":
            guard let value, let parsed = LabelMatcher.Operator(rawValue: op) else {
                warnings.append("filter \(key) \(op) has no value; ignored")
                return
            }
            do { matchers.append(try LabelMatcher(key, parsed, value)) } catch {
                warnings.append("filter \(key) \(op) \"\(value)\" was ignored: \(error)")
            }
        case "=|", "!=|":
            guard !values.isEmpty else { warnings.append("filter \(key) \(op) has no values; ignored"); return }
            matchers.append(try LabelMatcher(key, op == "=|" ? .regex : .notRegex, values.map(regexEscape).joined(separator: "|")))
        case "<", ">":
            guard let text = value, let bound = Double(text) else {
                warnings.append("filter \(key) \(op) needs a number, got \"\(value ?? "")\"; ignored")
                return
            }
            // Values of every spelling of a GPU label (the matcher is read through the alias table).
            let known = Set((GPULabelMatchers.group(of: key) ?? [key]).flatMap { db.labelValues($0) })
            let kept = known.sorted().filter { v in
                guard let x = Double(v) else { return false }
                return op == "<" ? x < bound : x > bound
            }
            if kept.isEmpty { matchesNothing = true } else {
                matchers.append(try LabelMatcher(key, .regex, kept.map(regexEscape).joined(separator: "|")))
            }
        default:
            warnings.append("filter operator \"\(op)\" is not supported (=, !=, =~, !~, =|, !=|, <, >); filter on \(key) ignored")
        }
    }
}
