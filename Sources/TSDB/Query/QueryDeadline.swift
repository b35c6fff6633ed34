import Dispatch

/// When a query must stop: checked between series and between chunks, so a query over the
/// limit stops within one chunk's work of it and answers ``TSDBError/queryTimeout(limit:)``.
struct QueryDeadline: Sendable {
    /// Monotonic clock (uptime nanoseconds) past which the query stops; `UInt64.max`: never.
    let at: UInt64
    /// The limit it was made from, for the error message.
    let limit: Int64

    static let none = QueryDeadline(at: .max, limit: 0)

    init(at: UInt64, limit: Int64) {
        self.at = at
        self.limit = limit
    }

    /// A deadline `limit` nanoseconds from now (none for nil).
    init(limit: Int64?) {
        guard let limit, limit >= 0 else { self = .none; return }
        let (at, overflow) = DispatchTime.now().uptimeNanoseconds.addingReportingOverflow(UInt64(limit))
        self.init(at: overflow ? .max : at, limit: limit)
    }

    @inline(__always)
    func check() throws(TSDBError) {
        guard at != .max else { return }
        if DispatchTime.now().uptimeNanoseconds > at { throw .queryTimeout(limit: limit) }
    }
}
