import Foundation
import TSDB

/// Writes into a ``TSDB`` in this process through ``DCGMBatchBuilder``: rows are parsed in
/// place (no per-row strings) and a known series costs one hash lookup; new series are
/// resolved in one catalog call per write.
///
/// ```swift
/// let sink = TSDBSink(db)
/// try await sink.write(documents: [payload])   // durable under the database's fsync policy
/// ```
package final class TSDBSink: SampleSink {
    package let db: TSDB
    private let builder: DCGMBatchBuilder

    /// - Parameter maxCachedSeries: series refs kept at most; the cache restarts empty past it.
    package init(_ db: TSDB, maxCachedSeries: Int = 2_000_000) {
        self.db = db
        self.builder = DCGMBatchBuilder(maxCachedSeries: maxCachedSeries)
    }

    package func write(documents: [[UInt8]]) async throws -> Int {
        try await append(documents: documents).appended
    }

    /// Like ``write(documents:)``, with what the database reported (samples outside the
    /// out-of-order window too); an empty call appends nothing.
    package func append(documents: [[UInt8]]) async throws -> AppendResult {
        do {
            let batch = try builder.batch(of: documents, db: db)
            guard !batch.isEmpty else { return AppendResult() }
            do {
                return try await db.append(batch)
            } catch TSDBError.unknownSeries {
                // A ref went stale (series dropped by retention): resolve afresh once.
                builder.invalidate()
                return try await db.append(try builder.batch(of: documents, db: db))
            }
        } catch let error as DCGMDocumentError {
            throw SinkError.malformed(document: error.document, reason: error.reason)
        } catch TSDBError.seriesRefused(let limit, let detail, let retryAfter) {
            let message = TSDBError.seriesRefused(limit, detail: detail, retryAfter: retryAfter).description
            // The hourly budget refills, so that is retryable; a series over a per-series
            // limit never fits, so that is a refusal (like a 400 from the API).
            if let retryAfter { throw SinkError.retryable(status: 429, retryAfter: .seconds(retryAfter), message: message) }
            throw SinkError.rejected(status: 400, message: message)
        } catch let error as TSDBError {
            throw SinkError.storage(error.description)
        }
    }
}
