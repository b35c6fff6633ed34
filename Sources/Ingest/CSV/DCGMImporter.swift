import Foundation
import TSDB

/// Imports DCGM CSV into a database at full speed: rows of known series are matched by
/// the hash of their raw bytes (no strings, no SQLite), new series are created once per
/// chunk in one catalog transaction, and appends overlap with parsing the next chunk.
public final class DCGMImporter {
    public struct Progress: Sendable {
        public var path: String
        public var bytesRead: Int64
        public var totalBytes: Int64
        public var rows: Int
        public var samples: Int
    }

    public struct Summary: Sendable {
        public var stats = DCGMParseStats()
        public var appended = 0
        public var outOfWindow = 0
        /// Samples refused as too far ahead of the clock (the database's `maxFuture`).
        public var tooFarInFuture = 0
        public var newSeries = 0
        public init() {}
    }

    let db: TSDB
    let batchSize: Int
    private var cache: [UInt64: [(key: [UInt8], ref: SeriesRef)]] = [:]

    public init(db: TSDB, batchSize: Int = 100_000) {
        self.db = db
        self.batchSize = batchSize
    }

    /// Imports one file. With `strict`, the first bad row stops the import with an error
    /// (rows before it stay imported). `progress` is called after every chunk.
    public func importFile(path: String, strict: Bool = false, progress: (Progress) -> Void = { _ in }) async throws -> Summary {
        let total = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64) ?? 0
        var parser = DCGMCSVParser(strict: strict)
        var summary = Summary()
        var batch = SampleBatch(capacity: batchSize)
        var pendingOrder: [[UInt8]] = []
        var keyHashes: [UInt64] = []
        var pending: [[UInt8]: (labels: Labels, samples: [(Int64, Double)])] = [:]
        var inflight: Task<AppendResult, Error>?
        var read: Int64 = 0

        let onRow: (borrowing DCGMRow) throws -> Void = { row in
            let h = row.seriesKeyHash()
            if let bucket = self.cache[h], let hit = bucket.first(where: { row.seriesKeyEquals($0.key) }) {
                batch.append(hit.ref, row.timestamp, row.value)
                return
            }
            let key = row.seriesKeyBytes()
            if pending[key] != nil {
                pending[key]!.samples.append((row.timestamp, row.value))
            } else {
                pendingOrder.append(key)
                keyHashes.append(h)
                pending[key] = (row.labels(), [(row.timestamp, row.value)])
            }
        }

        func settle() async throws {
            if let task = inflight {
                let r = try await task.value
                summary.appended += r.appended
                summary.outOfWindow += r.outOfWindow
                summary.tooFarInFuture += r.tooFarInFuture
                inflight = nil
            }
        }

        func flushPending() throws {
            guard !pendingOrder.isEmpty else { return }
            let before = db.seriesCount
            let refs = try db.resolve(pendingOrder.map { pending[$0]!.labels })
            summary.newSeries += db.seriesCount - before
            for (k, bytes) in pendingOrder.enumerated() {
                cache[keyHashes[k], default: []].append((bytes, refs[k]))
                for (t, v) in pending[bytes]!.samples { batch.append(refs[k], t, v) }
            }
            pendingOrder.removeAll(keepingCapacity: true)
            keyHashes.removeAll(keepingCapacity: true)
            pending.removeAll(keepingCapacity: true)
        }

        func ship(force: Bool) async throws {
            try flushPending()
            guard batch.count >= batchSize || (force && !batch.isEmpty) else { return }
            try await settle()
            let toSend = batch
            batch = SampleBatch(capacity: batchSize)
            let db = self.db
            inflight = Task { try await db.append(toSend) }
        }

        try await DCGMCSVParser.readFile(path) { chunk in
            try parser.feedRows(chunk, onRow)
            read += Int64(chunk.count)
        } afterEach: {
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

extension DCGMCSVParser {
    /// Like ``readFile(_:chunkSize:_:)`` with an async step after every chunk.
    public static func readFile(_ path: String, chunkSize: Int = 1 << 20, _ body: (UnsafeRawBufferPointer) throws -> Void,
                                afterEach: () async throws -> Void) async throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw DCGMError.unreadable(path: path, message: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
            throw DCGMError.unreadable(path: path, message: "is a directory")
        }
        var buffer = [UInt8](repeating: 0, count: chunkSize)
        while true {
            let n = buffer.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, chunkSize) }
            if n < 0 {
                if errno == EINTR { continue }
                throw DCGMError.unreadable(path: path, message: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            try buffer.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            try await afterEach()
        }
    }
}
