import Foundation
import Logging
import Metrics
import Primitives
import Synchronization

/// The storage engine: a durable, compressed, columnar time-series database with a SQLite
/// catalog. One instance owns one data directory (`catalog.sqlite`, `wal/`, `blocks/`).
///
/// Writes are acknowledged once their WAL record is durable under the fsync policy; the
/// head keeps recent samples in memory and is sealed into immutable, compressed blocks.
/// Queries see a consistent snapshot of blocks and head; many may run while writing.
///
/// ```swift
/// let db = try await TSDB.open(TSDBOptions(directory: "./data"))
/// let ref = try db.resolve(Labels(["__name__": "DCGM_FI_DEV_GPU_UTIL", "UUID": "GPU-1"]))
/// var batch = SampleBatch(); batch.append(ref, 1_752_871_354_000_000_000, 42)
/// try await db.append(batch)          // returns once durable under the fsync policy
/// let result = try db.query(Query(metric: "DCGM_FI_DEV_GPU_UTIL"))
/// try await db.close()
/// ```
public final class TSDB: Sendable {
    public let options: TSDBOptions
    /// What replaying the WAL found when the database was opened.
    public let replayReport: ReplayReport
    let logger: Logger
    let catalog: Catalog
    let wal: WAL
    /// An exclusive `flock` on `LOCK`: one process owns a data directory at a time.
    let lock: DirectoryLock
    let state: Mutex<State>
    /// Serialises series creation (SQLite inserts happen outside the state lock).
    let creation = Mutex<NewSeriesBudget>(NewSeriesBudget())
    /// Serialises sealing, compaction and retention.
    let maintenance = NSLock()
    let subscribers = Mutex<[Int: AsyncStream<[LabeledSample]>.Continuation]>([:])
    let maintenanceTask = Mutex<Task<Void, Never>?>(nil)
    let engineMetrics = EngineMetrics()
    /// Regex verdicts per (label, pattern) over distinct label values, shared by queries.
    let regexCache = RegexMatchCache()
    /// The inventory as of a series count (see ``InventoryIndex``); taken inside `state`'s lock.
    let inventoryCache = Mutex<InventoryIndex?>(nil)
    /// When refused far-future samples were last logged (wall-clock ns): at most one warning
    /// every 10 s, so a misconfigured source cannot flood the log.
    let futureWarnedAt = Atomic<Int64>(Int64.min)
    /// Test-only fault hooks inside seal, compaction and retention; off by default.
    package let faults = FaultInjector()

    var blocksDirectory: String { "\(options.directory)/blocks" }
    var walDirectory: String { "\(options.directory)/wal" }
    static func catalogPath(_ dir: String) -> String { "\(dir)/catalog.sqlite" }

    struct State: Sendable {
        var index = SeriesIndex()
        var head = Head()
        var frozen: [FrozenHead] = []
        var blocks: [Block] = []
        /// Oldest and newest timestamp per series id, across head and blocks.
        var seriesMin: [Int64] = []
        var seriesMax: [Int64] = []
        var nextBlockNumber: Int64 = 1
        var closed = false
        var sealRequested = false

        mutating func ensureSeries(_ id: UInt32) {
            let i = Int(id)
            if seriesMin.count <= i {
                seriesMin.append(contentsOf: repeatElement(Int64.max, count: i - seriesMin.count + 1))
                seriesMax.append(contentsOf: repeatElement(Int64.min, count: i - seriesMax.count + 1))
            }
            head.ensure(id)
        }

        /// Adds samples of known series (in non-decreasing time order per series, see
        /// ``SampleBatch/orderedPerSeries()``) to the head and the per-series time range.
        mutating func apply(_ batch: SampleBatch) {
            head.append(batch)
            batch.refs.withUnsafeBufferPointer { refs in
                batch.timestamps.withUnsafeBufferPointer { ts in
                    for i in 0..<refs.count {
                        let k = Int(refs[i]), t = ts[i]
                        if t > seriesMax[k] { seriesMax[k] = t }
                        if t < seriesMin[k] { seriesMin[k] = t }
                    }
                }
            }
        }
    }

    /// Opens (creating if needed) the database in `options.directory` and replays its WAL.
    /// A torn or corrupt WAL tail is truncated and reported in ``replayReport``.
    public static func open(_ options: TSDBOptions, logger: Logger = Logger(label: "tsdb")) async throws -> TSDB {
        let db = try TSDB(options: options, logger: logger)
        if options.backgroundMaintenance { db.startMaintenance() }
        return db
    }

    private init(options: TSDBOptions, logger: Logger) throws {
        self.options = options
        self.logger = logger
        let fm = FileManager.default
        let dir = options.directory
        do {
            try fm.createDirectory(atPath: "\(dir)/blocks", withIntermediateDirectories: true)
            try fm.createDirectory(atPath: "\(dir)/wal", withIntermediateDirectories: true)
        } catch {
            throw TSDBError.io(path: dir, message: "cannot create the data directory: \(error)")
        }
        do { lock = try DirectoryLock(directory: dir, fileName: "LOCK") } catch {
            switch error {
            case .busy(_, let holder):
                throw TSDBError.io(path: dir, message: "the data directory is in use by another process (pid \(holder ?? "?")); stop it or use another --data-dir")
            case .cannotOpen(let path, let reason):
                throw TSDBError.io(path: path, message: reason)
            }
        }
        catalog = try Catalog(path: Self.catalogPath(dir), fsync: options.fsync)
        var st = State()
        for (id, labels) in try catalog.allSeries() {
            guard let labels else {
                throw TSDBError.corrupt(path: Self.catalogPath(dir), message: "series \(id) has malformed labels")
            }
            st.index.add(id: id, labels: labels, hash: labels.stableHash)
            st.ensureSeries(id)
        }
        let (blocks, next) = try Self.loadBlocks(dir: "\(dir)/blocks", catalog: catalog, logger: logger)
        st.blocks = blocks
        st.nextBlockNumber = next
        for b in blocks {
            for id in b.seriesIDs {
                let chunks = b.chunks(of: id)
                guard let first = chunks.first, let last = chunks.last, Int(id) <= Int(st.index.maxID) else { continue }
                st.ensureSeries(id)
                st.seriesMin[Int(id)] = min(st.seriesMin[Int(id)], first.minTime)
                st.seriesMax[Int(id)] = max(st.seriesMax[Int(id)], last.maxTime)
            }
        }
        let maxID = st.index.maxID
        var unknown = 0
        var report = WALSegments.replay("\(dir)/wal", repair: true) { batch in
            // Records are replayed like appends: sorted per series, merged as runs.
            var known = batch
            if batch.refs.contains(where: { $0 < 1 || $0 > maxID }) {
                known = SampleBatch(capacity: batch.count)
                for i in 0..<batch.count {
                    let id = batch.refs[i]
                    guard id >= 1, id <= maxID else { unknown += 1; continue }
                    known.append(SeriesRef(id), batch.timestamps[i], batch.values[i])
                }
            }
            st.apply(known.orderedPerSeries())
        }
        if unknown > 0 { report.problems.append("\(unknown) WAL samples reference series missing from the catalog; skipped") }
        for p in report.problems { logger.warning("WAL replay: \(p)") }
        if report.records > 0 {
            logger.info("replayed WAL", metadata: ["records": "\(report.records)", "samples": "\(report.samples)"])
        }
        replayReport = report
        state = Mutex(st)
        let m = engineMetrics
        wal = try WAL(directory: "\(dir)/wal", policy: options.fsync, onFsync: { m.fsync.recordNanoseconds(Int64($0 * 1e9)) })
        engineMetrics.series.record(st.index.count)
        engineMetrics.headSamples.record(st.head.samples)
        engineMetrics.blocks.record(st.blocks.count)
    }

    /// Runs `body` while holding the engine lock, for tests that prove a path (`/health`,
    /// `/ready`) never waits on it.
    package func holdingEngineLock(_ body: () -> Void) {
        state.withLock { _ in body() }
    }

    /// Opens registered blocks, registers complete blocks a crash left unregistered, and
    /// removes half-written temporaries.
    private static func loadBlocks(dir: String, catalog: Catalog, logger: Logger) throws -> ([Block], Int64) {
        let fm = FileManager.default
        // Finish deletions a crash interrupted: the catalog recorded them before unlinking,
        // so these blocks must neither be served nor adopted back.
        let pending = try catalog.pendingDeletions()
        if !pending.isEmpty {
            try catalog.finishDeletions(removeBlockDirectories(dir: dir, ids: pending))
            logger.info("finished interrupted block deletions", metadata: ["blocks": "\(pending)"])
        }
        var registered = try catalog.blocks()
        let names = (try? fm.contentsOfDirectory(atPath: dir)) ?? []
        var maxNumber: Int64 = 0
        for name in names {
            if name.hasPrefix(".tmp-") {
                try? fm.removeItem(atPath: "\(dir)/\(name)")
                continue
            }
            if let n = Int64(name.dropFirst()) { maxNumber = max(maxNumber, n) }
            guard !registered.contains(where: { $0.id == name }), !pending.contains(name) else { continue }
            // Renamed into place but not registered: the write completed, so adopt it.
            if let data = fm.contents(atPath: "\(dir)/\(name)/\(BlockFormat.metaFile)"),
               let meta = try? JSONDecoder().decode(BlockFormat.Meta.self, from: data) {
                let record = BlockRecord(id: meta.id, minTime: meta.minTime, maxTime: meta.maxTime, samples: meta.samples,
                                         series: meta.series, chunks: meta.chunks, bytes: 0, priority: meta.priority, level: meta.level)
                try catalog.replaceBlocks(remove: [], add: [record])
                registered.append(record)
                logger.warning("adopted unregistered block \(name)")
            }
        }
        var blocks: [Block] = []
        for record in registered {
            do {
                blocks.append(try Block(path: "\(dir)/\(record.id)", record: record))
            } catch {
                logger.error("block \(record.id) cannot be opened; its data is not served: \(error)")
            }
        }
        blocks.sort { ($0.record.priority, $0.record.id) < ($1.record.priority, $1.record.id) }
        return (blocks, maxNumber + 1)
    }

    /// An engine released without ``close()`` still stops its WAL writer thread, after it has
    /// written and synced what was queued (the thread holds the WAL until then).
    deinit { wal.close() }

    /// Writes what is queued, stops background work and closes the files. Data in the head
    /// stays in the WAL and is replayed on the next open.
    public func close() async throws {
        let task = maintenanceTask.withLock { t -> Task<Void, Never>? in
            defer { t = nil }
            return t
        }
        task?.cancel()
        await task?.value
        let already = state.withLock { s -> Bool in
            defer { s.closed = true }
            return s.closed
        }
        guard !already else { return }
        try maintenance.withLock {
            wal.close()
            subscribers.withLock { subs in
                for c in subs.values { c.finish() }
                subs.removeAll()
            }
            try catalog.close()
            lock.release()
        }
    }
}
