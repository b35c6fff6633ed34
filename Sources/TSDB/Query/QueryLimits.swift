/// Bounds on the work one query does and on the answer it builds — not on the series an
/// aggregation folds: "average utilisation of the fleet" over a million series is one cheap
/// answer and runs. A query over a bound fails before it decodes anything, with
/// ``TSDBError`` naming the bound and its flag (`--max-series`, `--max-samples`,
/// `--max-result-bytes`); time is bounded by ``TSDBOptions/queryTimeout``.
///
/// The defaults, and why:
/// - `maxSeries` 1,000,000 series *returned* (after grouping). VictoriaMetrics refuses past
///   300,000 unique series per query, but counts the series it reads; we bound reading by
///   samples and memory instead, and PromQL selectors fetch their series raw before they
///   aggregate, so a PromQL fleet-wide `avg` over a 1,000,000-series fleet needs them all.
/// - `maxSamples` 1,000,000,000 samples decoded (chunks answered from their summaries and
///   pruned chunks cost nothing): VictoriaMetrics' `-search.maxSamplesPerQuery` default. At
///   the engine's decode rate this is seconds of work, under the default 30 s timeout.
/// - `maxResultBytes` 1 GiB of answer: 16 bytes a returned sample or bucket (8 for percentile
///   inputs kept while aggregating) plus the labels of each series — what the answer holds in
///   memory before it is written out.
public struct QueryLimits: Sendable, Equatable {
    /// Most series (or groups) the answer may hold.
    public var maxSeries: Int
    /// Most samples the query may decode (summarised chunks are free).
    public var maxSamples: Int
    /// Most bytes the answer may take in memory.
    public var maxResultBytes: Int

    public init(maxSeries: Int = 1_000_000, maxSamples: Int = 1_000_000_000, maxResultBytes: Int = 1 << 30) {
        self.maxSeries = maxSeries
        self.maxSamples = maxSamples
        self.maxResultBytes = maxResultBytes
    }
}
