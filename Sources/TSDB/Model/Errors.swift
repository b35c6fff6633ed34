/// Errors of the storage engine, each with a message a user can act on.
public enum TSDBError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The query is malformed (bad matcher, start after end, bad step).
    case invalidQuery(String)
    /// The answer would hold more series (after grouping) than ``QueryLimits/maxSeries``.
    case seriesLimitExceeded(limit: Int, returned: Int)
    /// The query would decode more samples than ``QueryLimits/maxSamples``.
    case sampleLimitExceeded(limit: Int, estimated: Int)
    /// The answer would take more memory than ``QueryLimits/maxResultBytes``.
    case resultBytesLimitExceeded(limit: Int, estimated: Int)
    /// The result has more series than the query's `limit`.
    case resultLimitExceeded(limit: Int, series: Int)
    /// A file could not be read or written.
    case io(path: String, message: String)
    /// Persisted data failed a checksum or a format check.
    case corrupt(path: String, message: String)
    /// The catalog (SQLite) failed.
    case catalog(String)
    /// The database was closed.
    case closed
    /// A write referenced a series id the catalog does not know.
    case unknownSeries(UInt32)
    /// The query ran past its deadline (``TSDBOptions/queryTimeout``, nanoseconds) and stopped.
    case queryTimeout(limit: Int64)
    /// A write would create a series over a ``SeriesLimits`` bound; none of the call's new
    /// series were created (so nothing of the request was stored). `retryAfter` (seconds) is
    /// set for the per-hour budget: when the hour ends.
    case seriesRefused(SeriesLimit, detail: String, retryAfter: Int? = nil)

    public var description: String {
        switch self {
        case .invalidQuery(let m): return "invalid query: \(m)"
        case .seriesLimitExceeded(let limit, let returned):
            return "query would return \(returned) series, over the limit of \(limit) (max_series: --max-series, env QUERY_MAX_SERIES); aggregate them (agg with group_by) or narrow the matchers"
        case .sampleLimitExceeded(let limit, let estimated):
            return "query would decode about \(estimated) samples, over the limit of \(limit) (max_samples: --max-samples, env QUERY_MAX_SAMPLES); narrow the time range or the matchers, or use a step that chunk summaries answer"
        case .resultBytesLimitExceeded(let limit, let estimated):
            return "query answer would take about \(estimated) bytes, over the limit of \(limit) (max_result_bytes: --max-result-bytes, env QUERY_MAX_RESULT_BYTES); use a larger step, aggregate with group_by, or narrow the time range"
        case .resultLimitExceeded(let limit, let series):
            return "query returns \(series) series, over its limit of \(limit); raise --limit or narrow the matchers"
        case .io(let path, let m): return "I/O error on \(path): \(m)"
        case .corrupt(let path, let m): return "corrupt data in \(path): \(m)"
        case .catalog(let m): return "catalog error: \(m)"
        case .closed: return "the database is closed"
        case .unknownSeries(let id): return "unknown series id \(id)"
        case .queryTimeout(let limit):
            return "query stopped after running longer than the limit of \(Self.seconds(limit)) (--query-timeout, env QUERY_TIMEOUT); narrow the time range or the matchers, use a step, or raise the limit"
        case .seriesRefused(let limit, let detail, _):
            return "\(detail) (\(limit.rawValue): \(limit.flag), env \(limit.environment)); nothing from this request was stored"
        }
    }

    static func seconds(_ nanos: Int64) -> String {
        let s = Double(nanos) / 1e9
        return s == s.rounded() ? "\(Int64(s)) s" : "\(s) s"
    }
}
