/// A GPU known from its telemetry: its UUID and what its series say about it, read through
/// ``GPULabelAliases`` (so `UUID`/`uuid`, `Hostname`/`hostname`/`host`, … all count).
public struct GPUInfo: Sendable, Codable, Equatable {
    public var uuid: String
    public var gpuIndex: String?
    public var device: String?
    public var model: String?
    public var hostname: String?
    public var namespaces: [String]
    /// Pods its series name (``GPULabelAliases/pod``), sorted.
    public var pods: [String] = []
    /// Its MIG slices (dcgm-exporter's `GPU_I_ID` / `GPU_I_PROFILE`), by instance id.
    public var migInstances: [MIGInstance] = []
    /// Nanoseconds since the epoch of its oldest and newest sample (nil before any sample).
    public var firstSeen: Int64?
    public var lastSeen: Int64?
    public var seriesCount: Int
}

/// One page of an inventory list sorted by its key (``TSDB/gpuPage(after:limit:hostname:namespace:model:)``).
public struct InventoryPage<Item: Sendable>: Sendable {
    public var items: [Item]
    /// Items the list (with its filters) holds in all.
    public var total: Int
    /// Whether items follow the last of this page.
    public var hasMore: Bool
}

/// A host and how many GPUs report from it.
public struct HostInfo: Sendable, Codable, Equatable {
    public var hostname: String
    public var gpuCount: Int
    public var seriesCount: Int
}

/// A namespace and how many GPUs and series carry it.
public struct NamespaceInfo: Sendable, Codable, Equatable {
    public var namespace: String
    public var gpuCount: Int
    public var seriesCount: Int
}

/// A metric name and how many series it has.
public struct MetricInfo: Sendable, Codable, Equatable {
    public var name: String
    public var seriesCount: Int
}

/// Size and content of a database (what `telemetry stats` prints).
public struct DatabaseStats: Sendable, Codable, Equatable {
    public var series: Int
    public var samples: Int
    public var headSamples: Int
    public var blocks: Int
    public var minTime: Int64?
    public var maxTime: Int64?
    public var bytesBlocks: Int64
    public var bytesWAL: Int64
    public var bytesCatalog: Int64
    public var bytesTotal: Int64 { bytesBlocks + bytesWAL + bytesCatalog }
    public var bytesPerSample: Double { samples == 0 ? 0 : Double(bytesTotal) / Double(samples) }
}

/// What opening a database found in its WAL.
public struct ReplayReport: Sendable, Equatable {
    public var segments = 0
    public var records = 0
    public var samples = 0
    /// Bytes cut off torn or corrupt tails.
    public var truncatedBytes: Int64 = 0
    /// One line per problem found (file, offset, what).
    public var problems: [String] = []
}

/// The verdict of ``TSDB/check(directory:)``.
public struct CheckReport: Sendable, Equatable {
    public var blocksChecked = 0
    public var chunksChecked = 0
    public var walSegmentsChecked = 0
    public var seriesInCatalog = 0
    public var problems: [String] = []
    public var isClean: Bool { problems.isEmpty }
}

/// What a flush sealed and compacted.
public struct FlushReport: Sendable, Equatable {
    public var samplesSealed = 0
    public var blocksWritten = 0
    public var blocksCompacted = 0
    public var blocksDeletedByRetention = 0
}
