import Foundation
import Primitives

/// Everything ``TSDB/open(_:logger:)`` needs; every default is here and in the README.
public struct TSDBOptions: Sendable {
    /// Root of the data: `catalog.sqlite`, `wal/`, `blocks/`.
    public var directory: String
    public var fsync: FsyncPolicy = .batch
    /// The head is sealed into a block once it spans this much time (default 2 h).
    public var blockDuration: Int64 = 2 * Nanos.hour
    /// Blocks are compacted into blocks spanning up to this much (default 24 h).
    public var compactedBlockDuration: Int64 = 24 * Nanos.hour
    /// How far behind a series' newest sample a write may land (default 1 h). A newest
    /// sample ahead of the wall clock counts as "now", so a far-future sample (also one
    /// stored by an older version) cannot silence the series.
    public var outOfOrderWindow: Int64 = Nanos.hour
    /// Samples more than this far ahead of the wall clock are refused and counted
    /// (`tsdb_samples_too_far_in_future_total`); nil accepts any timestamp. Default 10 min.
    public var maxFuture: Int64? = 10 * Nanos.minute
    /// Blocks whose newest sample is older than this behind the wall clock are deleted
    /// (nil: keep all).
    public var retention: Int64? = nil
    /// The longest a query may run before it stops with ``TSDBError/queryTimeout(limit:)``
    /// (default 30 s; nil: no deadline). ``Query/timeout`` overrides it per query.
    public var queryTimeout: Int64? = 30 * Nanos.second
    /// The wall clock in nanoseconds since the epoch (the future bound, the out-of-order
    /// window and retention are measured from it); replaceable for tests.
    public var clock: @Sendable () -> Int64 = { WallClock.nanos() }
    /// The head is also sealed when it holds this many samples, to bound memory.
    public var maxHeadSamples: Int = 50_000_000
    /// Most samples a chunk of a block holds (default 4,096: on the DCGM benchmark data
    /// 0.635 bytes a sample against 0.664 with 1,024, and still two chunks per series per
    /// 2 h block at 1 s scrapes, so whole-chunk summaries keep answering coarse buckets).
    /// Values above 1,048,576 (what a block index may announce) are written as that.
    public var samplesPerChunk: Int = 4096
    public var limits: QueryLimits = QueryLimits()
    /// Bounds on new series (labels per series, name/value length, new series per request
    /// and per hour); see ``SeriesLimits`` for what a refused write stores (nothing).
    public var seriesLimits: SeriesLimits = SeriesLimits()
    /// Run sealing, compaction and retention in the background (off for tools that flush by hand).
    public var backgroundMaintenance: Bool = true

    public init(directory: String) {
        self.directory = directory
    }
}

/// The system's real-time clock, in nanoseconds since the epoch.
public enum WallClock {
    public static func nanos() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) &* Nanos.second &+ Int64(ts.tv_nsec)
    }
}
