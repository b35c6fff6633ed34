/// What a query will do, decided once by ``Planner/plan(_:deadline:)`` and then both run by
/// ``SeriesReader`` and reported by ``TSDB/explain(_:)``: the two cannot disagree, because
/// `explain` reads the very steps execution takes.
struct ExecutionPlan {
    /// The validated query, its range end narrowed where ``Query/earliestSamples`` allows.
    var planner: Planner
    var snapshot: Snapshot
    /// Per selected series (in ``Snapshot/ids`` order), how its samples are read.
    var series: [SeriesPlan]
    /// Group index of each series when the query groups (`groupBy`), else nil: one result
    /// per series.
    var groupOf: [Int]?
    /// Labels of each group, by group index.
    var groupLabels: [Labels]
    /// Series (or groups) the answer holds at most: those with a source in range.
    var seriesReturned: Int
    /// Samples decoded: chunks not answered from their summaries, and head samples.
    var samplesToDecode: Int
    /// The answer's memory, as ``QueryLimits/maxResultBytes`` counts it.
    var resultBytes: Int
    /// Indices into ``Snapshot/blocks`` of the blocks whose range overlaps the query's.
    var blocks: [Int]
}

/// How one series is read: its sources in time order, each summarised, decoded, copied from
/// the head, or (where sources overlap) merged newest-wins.
struct SeriesPlan {
    enum Step {
        /// A chunk wholly inside one bucket: its summary is the answer.
        case summarize(block: Int, meta: ChunkMeta)
        /// A chunk decoded and its samples in range kept or folded.
        case decode(block: Int, meta: ChunkMeta)
        /// In-memory samples `lo..<hi` of a head column.
        case memory(HeadColumn, lo: Int, hi: Int)
        /// Sources whose time ranges overlap, in priority order (oldest first).
        case merge([Snapshot.Source])
    }

    var steps: [Step] = []
    var chunksTotal = 0
    var chunksPruned = 0
    var chunksSummarizable = 0
    var chunksToDecode = 0
    var samplesToDecode = 0
    var hasMemory = false

    var isEmpty: Bool { steps.isEmpty }
}
