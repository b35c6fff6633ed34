import Foundation
import GRDB
import Testing
@testable import TSDB
import TelemetryTestSupport

/// The SQLite catalog's series rows: labels stored as ids of shared `label_values` rows, no
/// postings table (the postings are in memory), one inventory row per GPU.
@Suite("Catalog")
struct CatalogTests {
    static func fleet(hosts: Range<Int>, gpus: Int = 4, metrics: [String] = ["UTIL", "POWER", "TEMP"]) -> [Labels] {
        hosts.flatMap { h in
            (0..<gpus).flatMap { g in
                metrics.map { gpuLabels($0, uuid: "GPU-\(h)-\(g)", host: "node-\(h)", gpu: g, namespace: "ns-\(h % 2)") }
            }
        }
    }

    @Test("series created in several calls share one label_values row per pair and read back exactly")
    func labelRowsAreShared() throws {
        let dir = TempDir("catalog")
        let path = dir.path + "/catalog.sqlite"
        let catalog = try Catalog(path: path, fsync: .batch)
        let first = Self.fleet(hosts: 0..<3), second = Self.fleet(hosts: 2..<5)
        let firstIDs = try catalog.insertSeries(first)
        // The second call repeats the hosts of the first one's last host under new metrics.
        let secondNew = second.filter { !first.contains($0) } + Self.fleet(hosts: 2..<3, metrics: ["FB_USED"])
        let secondIDs = try catalog.insertSeries(secondNew)
        #expect(Set(firstIDs).isDisjoint(with: secondIDs))
        #expect(Set(firstIDs + secondIDs).count == first.count + secondNew.count)

        let all = first + secondNew
        let pairs = Set(all.flatMap { Array($0) })
        let (labelRows, hasPostings, gpuRows) = try catalog.pool.read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM label_values") ?? -1,
             try db.tableExists("postings"),
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM gpus") ?? -1)
        }
        #expect(labelRows == pairs.count, "one row per distinct (name, value)")
        #expect(!hasPostings)
        #expect(gpuRows == 5 * 4)

        let stored = try catalog.allSeries()
        #expect(stored.map(\.id) == (firstIDs + secondIDs).sorted())
        let byID = Dictionary(uniqueKeysWithValues: zip(firstIDs + secondIDs, all))
        for (id, labels) in stored { #expect(labels == byID[id], "series \(id)") }
        try catalog.close()
    }

    @Test("a catalog written with the old postings table opens without it and keeps its series and inventory")
    func oldPostingsTableIsDropped() async throws {
        let dir = TempDir("catalog-old")
        let labels = Self.fleet(hosts: 0..<2)
        do {
            let db = try await TSDB.open(options(dir))
            _ = try db.resolve(labels)
            try await db.close()
        }
        // What a catalog of the previous version looks like: the table, filled, and no record
        // of the migration that drops it.
        let path = dir.path + "/catalog.sqlite"
        do {
            let queue = try DatabaseQueue(path: path)
            try await queue.write { db in
                try db.execute(sql: "CREATE TABLE postings (label_id INTEGER NOT NULL, series_id INTEGER NOT NULL, PRIMARY KEY (label_id, series_id)) WITHOUT ROWID")
                try db.execute(sql: "INSERT INTO postings SELECT l.id, s.id FROM label_values l, series s")
                try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = 'v3-no-postings-table'")
            }
            try queue.close()
        }
        let db = try await TSDB.open(options(dir))
        #expect(try db.resolve(labels).map(\.id) == Array(1...UInt32(labels.count)))
        #expect(db.gpus().count == 2 * 4)
        try await db.close()
        let queue = try DatabaseQueue(path: path)
        #expect(try await queue.read { try $0.tableExists("postings") } == false)
        try queue.close()
        #expect(try TSDB.check(directory: dir.path).isClean)
    }
}
