import TSDB

/// The API's face of ``SelectorSyntax`` (parsing lives in TSDB/Query/Selector.swift, once):
/// the same syntax, its errors as 400s.
package enum MatcherSyntax {
    /// Splits one `match[]` value into matcher texts; see ``SelectorSyntax/split(_:)``.
    package static func split(_ text: String) throws(APIError) -> [String] {
        do { return try SelectorSyntax.split(text) } catch { throw APIError.from(error) }
    }

    /// `metric`, `metric{label="v",…}` or `{…}`: the metric (nil when absent) and the matchers.
    package static func selector(_ text: String) throws -> (String?, [LabelMatcher]) {
        do { return try SelectorSyntax.selector(text) } catch { throw APIError.from(error) }
    }
}
