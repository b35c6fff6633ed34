import Ingest
import TSDB

/// The selector syntax of `match[]` and Grafana targets: a braced, comma-separated list of
/// PromQL-style matchers (`{Hostname="a",gpu=~"0|1"}`), optionally after a metric name.
package enum MatcherSyntax {
    /// Splits one `match[]` value into matcher texts (one matcher, or a braced list); commas
    /// inside quotes belong to the value, and `\"` / `\\` in a quoted value are undone.
    package static func split(_ text: String) throws(APIError) -> [String] {
        var body = Substring(text)
        if body.first == "{" {
            guard body.last == "}" else { throw .badRequest("match[] \"\(text)\" opens { without closing }") }
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
        if inQuotes { throw .badRequest("match[] \"\(text)\" has an unterminated quote") }
        if !current.isEmpty { out.append(current) }
        return out.map(unescapeValue)
    }

    /// `metric`, `metric{label="v",…}` or `{…}`: the metric (nil when absent) and the matchers.
    package static func selector(_ text: String) throws -> (String?, [LabelMatcher]) {
        guard let brace = text.firstIndex(of: "{") else { return (text, []) }
        let metric = String(text[..<brace]).trimmingWhitespace()
        let matchers = try split(String(text[brace...])).map { m throws in try LabelMatcher(parsing: m) }
        return (metric.isEmpty ? nil : metric, matchers)
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
