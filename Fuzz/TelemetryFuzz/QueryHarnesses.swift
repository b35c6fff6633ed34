import APIServer
import Hummingbird
import HummingbirdCore
import TSDB

/// The query string of `/api/v1/query` and the Grafana selectors: percent-decoding, the typed
/// parameter getters, `match[]` lists and label matchers (regular expressions included).
enum QueryHarnesses {
    @Sendable static func query(_ data: UnsafeRawBufferPointer) {
        let text = String(decoding: data, as: UTF8.self)
        // As the router hands it over: everything after the first `?`.
        let uri = URI("/api/v1/query?" + text)
        guard let q = try? QueryParameters(uri) else { return }
        _ = try? q.time("start_time", "start")
        _ = try? q.time("end_time", "end")
        _ = try? q.duration("step")
        _ = try? q.int("limit", default: 0, range: 1...1_000_000)
        for value in q.all("match[]", "match") {
            guard let parts = try? MatcherSyntax.split(value) else { continue }
            for part in parts { _ = try? LabelMatcher(parsing: part) }
        }
        if let target = q.string("target") { _ = try? MatcherSyntax.selector(target) }
    }
}
