import TSDB

/// What the write paths' cached builders (``LineProtocolBatchBuilder``, ``JSONBatchBuilder``,
/// ``RemoteWriteBatchBuilder``) share: a body parsed into one batch whose known series come
/// from a label-bytes cache, sealed by resolving the new ones, and appended once.
///
/// ```swift
/// var parsed = try builder.parse(body)
/// let result = try await builder.append(&parsed, to: db) { try builder.parse(body) }
/// ```
package protocol CachedBatchBuilder: Sendable {
    associatedtype Parsed
    /// The refs of series this builder has resolved, keyed by their label bytes.
    var cache: LabelBytesCache { get }
    /// Resolves the new series of `p` (one catalog call; series limits apply there), caches
    /// them and returns the finished batch. Throws what ``TSDB/resolve(_:)`` throws.
    func seal(_ p: inout Parsed, db: TSDB) throws -> SampleBatch
}

extension CachedBatchBuilder {
    /// Forgets every cached ref (after `TSDBError.unknownSeries`: a series was dropped).
    package func invalidate() { cache.invalidate() }

    /// Appends `parsed` as one batch: one WAL record, durable on return. When a cached ref
    /// went stale (`TSDBError.unknownSeries`: retention dropped its series) the cache is
    /// cleared and the body is parsed (`reparse`), sealed and appended afresh, once; `parsed`
    /// then holds the second parse.
    package func append(_ parsed: inout Parsed, to db: TSDB, reparse: () throws -> Parsed) async throws -> AppendResult {
        do {
            return try await db.append(try seal(&parsed, db: db))
        } catch TSDBError.unknownSeries {
            invalidate()
            parsed = try reparse()
            return try await db.append(try seal(&parsed, db: db))
        }
    }
}
