/// Errors of the storage engine, each with a message a user can act on.
public enum TSDBError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The query is malformed (bad matcher, start after end, bad step).
    case invalidQuery(String)
    /// The query would touch more series than allowed.
    case seriesLimitExceeded(limit: Int, matched: Int)
    /// The query would read more samples than allowed.
    case sampleLimitExceeded(limit: Int, estimated: Int)
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
        case .seriesLimitExceeded(let limit, let matched):
            return "query matches \(matched) series, over the limit of \(limit) (max_series); narrow the matchers"
        case .sampleLimitExceeded(let limit, let estimated):
            return "query would read about \(estimated) samples, over the limit of \(limit) (max_samples); narrow the time range or use a step"
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
