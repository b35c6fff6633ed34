import Foundation
import TSDB

/// Imports DCGM CSV into a database at full speed: rows of known series are matched by
/// the hash of their raw bytes (no strings, no SQLite), new series are created once per
/// batch in one catalog transaction (all through ``DCGMBatchBuilder``), and appends overlap
/// with parsing the next chunk.
package final class DCGMImporter {
    package struct Progress: Sendable {
        package var path: String
        package var bytesRead: Int64
        package var totalBytes: Int64
        package var rows: Int
        package var samples: Int
    }

    package struct Summary: Sendable {
        package var stats = DCGMParseStats()
        package var appended = 0
        package var outOfWindow = 0
        /// Samples refused as too far ahead of the clock (the database's `maxFuture`).
        package var tooFarInFuture = 0
        package var newSeries = 0
        package init() {}
    }

    let db: TSDB
    let batchSize: Int
    private let builder = DCGMBatchBuilder()

    package init(db: TSDB, batchSize: Int = 100_000) {
        self.db = db
        self.batchSize = batchSize
    }

    /// Imports one file. With `strict`, the first bad row stops the import with an error
    /// (rows before it stay imported). `progress` is called after every chunk.
    package func importFile(path: String, strict: Bool = false, progress: (Progress) -> Void = { _ in }) async throws -> Summary {
        let total = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64) ?? 0
        var reader = try ChunkedFileReader(path: path)
        var parser = DCGMCSVParser(strict: strict)
        var summary = Summary()
        var pending = DCGMBatchBuilder.Pending(capacity: batchSize)
        var inflight: Task<AppendResult, Error>?
        var read: Int64 = 0
        let builder = self.builder

        func settle() async throws {
            guard let task = inflight else { return }
            inflight = nil
            let r: AppendResult
            do {
                r = try await task.value
            } catch TSDBError.unknownSeries(let id) {
                // A ref went stale (retention dropped its series while importing): the next
                // file resolves afresh; this batch is not stored.
                builder.invalidate()
                throw TSDBError.unknownSeries(id)
            }
            summary.appended += r.appended
            summary.outOfWindow += r.outOfWindow
            summary.tooFarInFuture += r.tooFarInFuture
        }

        func ship(force: Bool) async throws {
            guard pending.count >= batchSize || (force && pending.count > 0) else { return }
            let (toSend, created) = try builder.seal(&pending, db: db)
            summary.newSeries += created
            try await settle()
            let db = self.db
            inflight = Task { try await db.append(toSend) }
        }

        let onRow: (borrowing DCGMRow) throws -> Void = { builder.add($0, to: &pending) }
        while let n = try reader.next({ chunk in try parser.feedRows(chunk, onRow); return chunk.count }) {
            read += Int64(n)
            try await ship(force: false)
            progress(Progress(path: path, bytesRead: read, totalBytes: total, rows: parser.stats.rows, samples: parser.stats.samples))
        }
        try parser.finishRows(onRow)
        try await ship(force: true)
        try await settle()
        summary.stats = parser.stats
        progress(Progress(path: path, bytesRead: read, totalBytes: total, rows: parser.stats.rows, samples: parser.stats.samples))
        return summary
    }
}
