import TSDB

/// What went wrong with a PromQL request, mapped to Prometheus' `errorType` and status code.
package enum PromQLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The expression or a parameter is malformed (400 `bad_data`).
    case badData(String)
    /// A construct Prometheus has that this engine does not evaluate (422 `execution`); the
    /// message names it.
    case unsupported(String)
    /// Evaluation failed: many-to-many matching, duplicate label sets, storage limits
    /// (422 `execution`).
    case execution(String)
    /// The query ran past its deadline (503 `timeout`).
    case timeout(String)

    package var errorType: String {
        switch self {
        case .badData: return "bad_data"
        case .unsupported, .execution: return "execution"
        case .timeout: return "timeout"
        }
    }

    package var httpStatus: Int {
        switch self {
        case .badData: return 400
        case .unsupported, .execution: return 422
        case .timeout: return 503
        }
    }

    package var description: String {
        switch self {
        case .badData(let m), .execution(let m), .timeout(let m): return m
        case .unsupported(let m): return "unsupported by this server: \(m)"
        }
    }
}

extension PromQLError {
    /// ``TSDB/rawSamples(_:timeUnit:)`` in milliseconds, its errors mapped as ``query(_:_:)``'s.
    static func rawSamples(_ db: TSDB, _ q: Query) throws(PromQLError) -> QueryResult {
        do { return try db.rawSamples(q, timeUnit: 1_000_000) } catch let e as TSDBError {
            throw .execution(e.description)
        } catch {
            throw .execution("\(error)")
        }
    }

    /// The TSDB's answer to `q`; its errors (limits, timeouts) become ``execution(_:)``.
    static func query(_ db: TSDB, _ q: Query) throws(PromQLError) -> QueryResult {
        do { return try db.query(q) } catch let e as TSDBError {
            throw .execution(e.description)
        } catch {
            throw .execution("\(error)")
        }
    }
}
