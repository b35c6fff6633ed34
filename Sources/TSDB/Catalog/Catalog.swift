import Foundation
import GRDB
import Primitives

/// A block as the catalog registers it.
package struct BlockRecord: Sendable, Equatable {
    var id: String
    var minTime: Int64
    var maxTime: Int64
    var samples: Int
    var series: Int
    var chunks: Int
    var bytes: Int64
    /// Newer data wins on duplicate timestamps: higher priority overrides lower.
    var priority: Int64
    var level: Int

    package init(id: String, minTime: Int64, maxTime: Int64, samples: Int, series: Int, chunks: Int, bytes: Int64,
                 priority: Int64, level: Int) {
        self.id = id
        self.minTime = minTime
        self.maxTime = maxTime
        self.samples = samples
        self.series = series
        self.chunks = chunks
        self.bytes = bytes
        self.priority = priority
        self.level = level
    }
}

/// The metadata store (SQLite in WAL mode through GRDB): series and their labels (as ids of
/// `label_values` rows, from which the in-memory postings are built at open), the GPU
/// inventory and the block registry. Samples never go here.
final class Catalog: Sendable {
    let pool: DatabasePool
    let path: String

    init(path: String, fsync: FsyncPolicy, readOnly: Bool = false) throws {
        self.path = path
        var config = Configuration()
        config.readonly = readOnly
        config.label = "tsdb-catalog"
        let synchronous = fsync == .always ? "FULL" : "NORMAL"
        config.prepareDatabase { db in
            if !db.configuration.readonly {
                try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
            }
        }
        do {
            pool = try DatabasePool(path: path, configuration: config)
            if !readOnly { try migrate() }
        } catch {
            throw TSDBError.catalog("cannot open \(path): \(error)")
        }
    }

    private func migrate() throws {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE series (
                    id INTEGER PRIMARY KEY,
                    hash INTEGER NOT NULL,
                    label_ids BLOB NOT NULL
                );
                CREATE TABLE label_values (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL,
                    value TEXT NOT NULL,
                    UNIQUE(name, value)
                );
                CREATE TABLE postings (
                    label_id INTEGER NOT NULL,
                    series_id INTEGER NOT NULL,
                    PRIMARY KEY (label_id, series_id)
                ) WITHOUT ROWID;
                CREATE TABLE gpus (
                    uuid TEXT PRIMARY KEY,
                    gpu_index TEXT,
                    device TEXT,
                    model TEXT,
                    hostname TEXT
                ) WITHOUT ROWID;
                CREATE TABLE gpu_namespaces (
                    uuid TEXT NOT NULL,
                    namespace TEXT NOT NULL,
                    PRIMARY KEY (uuid, namespace)
                ) WITHOUT ROWID;
                CREATE TABLE blocks (
                    id TEXT PRIMARY KEY,
                    min_time INTEGER NOT NULL,
                    max_time INTEGER NOT NULL,
                    samples INTEGER NOT NULL,
                    series INTEGER NOT NULL,
                    chunks INTEGER NOT NULL,
                    bytes INTEGER NOT NULL,
                    priority INTEGER NOT NULL,
                    level INTEGER NOT NULL
                ) WITHOUT ROWID;
                """)
        }
        // Blocks unregistered by compaction or retention, recorded in the same transaction,
        // until their directories are unlinked: a crash in between never brings them back.
        migrator.registerMigration("v2-pending-deletions") { db in
            try db.execute(sql: "CREATE TABLE pending_deletions (id TEXT PRIMARY KEY) WITHOUT ROWID")
        }
        // The postings table was written (one row per label of every series) and never read:
        // the postings are in memory, rebuilt from `series.label_ids` at open. At a million
        // series it was most of the catalog's size and of the cost of creating a series.
        migrator.registerMigration("v3-no-postings-table") { db in
            try db.execute(sql: "DROP TABLE IF EXISTS postings")
        }
        try migrator.migrate(pool)
        // A pre-release catalog stored canonical label bytes in series.labels; refuse it
        // clearly instead of failing on a missing column later.
        let columns = try pool.read { db in try db.columns(in: "series").map(\.name) }
        guard columns.contains("label_ids") else {
            throw TSDBError.catalog("\(path) uses a pre-release catalog format (series.labels); re-import the data into a new data directory")
        }
    }

    func wrap<T>(_ what: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as TSDBError { throw e } catch {
            throw TSDBError.catalog("\(what): \(error)")
        }
    }

    /// Every series: id and labels (nil when its label ids are damaged), in id order.
    func allSeries() throws -> [(id: UInt32, labels: Labels?)] {
        try wrap("reading series") {
            try pool.read { db in
                var values: [Int64: Label] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT id, name, value FROM label_values") {
                    values[row[0]] = Label(row[1], row[2])
                }
                return try Row.fetchAll(db, sql: "SELECT id, label_ids FROM series ORDER BY id").map { row in
                    let id = UInt32(truncatingIfNeeded: row[0] as Int64)
                    let blob = [UInt8]((row[1] as Data?) ?? Data())
                    return (id, Self.decodeLabelIDs(blob, values))
                }
            }
        }
    }

    /// A series' labels are stored as the varint ids of their (name, value) rows, in
    /// label order: a dozen bytes instead of a few hundred.
    static func decodeLabelIDs(_ blob: [UInt8], _ values: [Int64: Label]) -> Labels? {
        var pairs: [Label] = []
        let ok: Bool = blob.withUnsafeBytes { raw in
            var r = ByteReader(raw)
            while r.remaining > 0 {
                guard let id = try? r.varint(), let label = values[Int64(truncatingIfNeeded: id)] else { return false }
                pairs.append(label)
            }
            return true
        }
        guard ok, !pairs.isEmpty else { return nil }
        for k in 1..<pairs.count where !(pairs[k - 1].name < pairs[k].name) { return nil }
        return Labels(sortedPairs: pairs)
    }

    /// Inserts new series with their labels and inventory rows in one transaction and
    /// returns their ids in order.
    ///
    /// The cost is per new series, so it stays low at a million series: each distinct
    /// (name, value) of the call is looked up or inserted once (a request creating the
    /// series of 400 GPUs shares its model, namespace and device values), a GPU's inventory
    /// row is written once per call however many of its metrics are new, and the postings
    /// live only in memory (``SeriesIndex``, rebuilt from `series.label_ids` at open).
    func insertSeries(_ new: [Labels]) throws -> [UInt32] {
        guard !new.isEmpty else { return [] }
        return try wrap("inserting \(new.count) series") {
            try pool.write { db in
                var ids: [UInt32] = []
                ids.reserveCapacity(new.count)
                let insertSeries = try db.cachedStatement(sql: "INSERT INTO series(hash, label_ids) VALUES (?, ?)")
                let insertLabel = try db.cachedStatement(sql: "INSERT INTO label_values(name, value) VALUES (?, ?) ON CONFLICT(name, value) DO NOTHING")
                let findLabel = try db.cachedStatement(sql: "SELECT id FROM label_values WHERE name = ? AND value = ?")
                let upsertGPU = try db.cachedStatement(sql: """
                    INSERT INTO gpus(uuid, gpu_index, device, model, hostname) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(uuid) DO UPDATE SET gpu_index = COALESCE(excluded.gpu_index, gpu_index), device = COALESCE(excluded.device, device),
                        model = COALESCE(excluded.model, model), hostname = COALESCE(excluded.hostname, hostname)
                    """)
                let insertNamespace = try db.cachedStatement(sql: "INSERT OR IGNORE INTO gpu_namespaces(uuid, namespace) VALUES (?, ?)")
                var labelIDs: [Label: Int64] = [:]
                var written: [String: GPUIdentity] = [:]
                for labels in new {
                    var blob: [UInt8] = []
                    for pair in labels {
                        let labelID: Int64
                        if let known = labelIDs[pair] {
                            labelID = known
                        } else {
                            try insertLabel.execute(arguments: [pair.name, pair.value])
                            if db.changesCount > 0 {
                                labelID = db.lastInsertedRowID
                            } else if let existing = try Int64.fetchOne(findLabel, arguments: [pair.name, pair.value]) {
                                labelID = existing
                            } else {
                                throw TSDBError.catalog("label \(pair.name)=\(pair.value) vanished while inserting")
                            }
                            labelIDs[pair] = labelID
                        }
                        blob.appendVarint(UInt64(labelID))
                    }
                    try insertSeries.execute(arguments: [Int64(bitPattern: labels.stableHash), Data(blob)])
                    ids.append(UInt32(truncatingIfNeeded: db.lastInsertedRowID))
                    if let gpu = GPULabelAliases.identity(of: labels), written[gpu.uuid] != gpu {
                        written[gpu.uuid] = gpu
                        try upsertGPU.execute(arguments: [gpu.uuid, gpu.index, gpu.device, gpu.model, gpu.hostname])
                        if let ns = gpu.namespace {
                            try insertNamespace.execute(arguments: [gpu.uuid, ns])
                        }
                    }
                }
                return ids
            }
        }
    }

    func blocks() throws -> [BlockRecord] {
        try wrap("reading the block registry") {
            try pool.read { db in
                try Row.fetchAll(db, sql: "SELECT id, min_time, max_time, samples, series, chunks, bytes, priority, level FROM blocks ORDER BY priority, id").map {
                    BlockRecord(id: $0[0], minTime: $0[1], maxTime: $0[2], samples: $0[3], series: $0[4], chunks: $0[5], bytes: $0[6], priority: $0[7], level: $0[8])
                }
            }
        }
    }

    /// Registers `add` and unregisters `remove` atomically (compaction swaps blocks this way),
    /// recording `remove` as pending deletions in the same transaction; the caller unlinks
    /// them afterwards and calls ``finishDeletions(_:)``.
    func replaceBlocks(remove: [String], add: [BlockRecord]) throws {
        try wrap("updating the block registry") {
            try pool.write { db in
                for id in remove {
                    try db.execute(sql: "DELETE FROM blocks WHERE id = ?", arguments: [id])
                    try db.execute(sql: "INSERT OR IGNORE INTO pending_deletions(id) VALUES (?)", arguments: [id])
                }
                for b in add {
                    try db.execute(sql: """
                        INSERT OR REPLACE INTO blocks(id, min_time, max_time, samples, series, chunks, bytes, priority, level)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """, arguments: [b.id, b.minTime, b.maxTime, b.samples, b.series, b.chunks, b.bytes, b.priority, b.level])
                }
            }
        }
    }

    /// Blocks unregistered whose directories may still be on disk (empty for a catalog
    /// older than the table, which only a read-only open can see).
    func pendingDeletions() throws -> [String] {
        try wrap("reading pending block deletions") {
            try pool.read { db in
                guard try db.tableExists("pending_deletions") else { return [] }
                return try String.fetchAll(db, sql: "SELECT id FROM pending_deletions ORDER BY id")
            }
        }
    }

    /// Forgets pending deletions whose directories are gone.
    func finishDeletions(_ ids: [String]) throws {
        guard !ids.isEmpty else { return }
        try wrap("finishing block deletions") {
            try pool.write { db in
                for id in ids { try db.execute(sql: "DELETE FROM pending_deletions WHERE id = ?", arguments: [id]) }
            }
        }
    }

    func gpuCount() throws -> Int {
        try wrap("counting GPUs") { try pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM gpus") ?? 0 } }
    }

    /// Checkpoints SQLite's own WAL into the main file so its size on disk is settled.
    func checkpoint() throws {
        try wrap("checkpointing") { try pool.writeWithoutTransaction { try $0.checkpoint(.truncate) } }
    }

    func close() throws {
        try wrap("closing") { try pool.close() }
    }
}
