import Primitives

/// Bounds on what one query may touch; a query over them fails with a clear error.
public struct QueryLimits: Sendable, Equatable {
    public var maxSeries: Int
    public var maxSamples: Int
    public init(maxSeries: Int = 50_000, maxSamples: Int = 50_000_000) {
        self.maxSeries = maxSeries
        self.maxSamples = maxSamples
    }
}

/// Everything ``TSDB/open(_:logger:)`` needs; every default is here and in the README.
public struct TSDBOptions: Sendable {
    /// Root of the data: `catalog.sqlite`, `wal/`, `blocks/`.
    public var directory: String
    public var fsync: FsyncPolicy = .batch
    /// The head is sealed into a block once it spans this much time (default 2 h).
    public var blockDuration: Int64 = 2 * Nanos.hour
    /// Blocks are compacted into blocks spanning up to this much (default 24 h).
    public var compactedBlockDuration: Int64 = 24 * Nanos.hour
    /// How far behind a series' newest sample a write may land (default 1 h).
    public var outOfOrderWindow: Int64 = Nanos.hour
    /// Blocks entirely older than this, behind the newest data, are deleted (nil: keep all).
    public var retention: Int64? = nil
    /// The head is also sealed when it holds this many samples, to bound memory.
    public var maxHeadSamples: Int = 50_000_000
    /// Most samples a chunk of a block holds (default 4,096: on the DCGM benchmark data
    /// 0.635 bytes a sample against 0.664 with 1,024, and still two chunks per series per
    /// 2 h block at 1 s scrapes, so whole-chunk summaries keep answering coarse buckets).
    public var samplesPerChunk: Int = 4096
    public var limits: QueryLimits = QueryLimits()
    /// Run sealing, compaction and retention in the background (off for tools that flush by hand).
    public var backgroundMaintenance: Bool = true

    public init(directory: String) {
        self.directory = directory
    }
}
