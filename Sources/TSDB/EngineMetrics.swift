import Metrics

/// The engine's Prometheus metrics (names in the README); reported through swift-metrics,
/// so the executable decides where they go.
struct EngineMetrics: Sendable {
    let appended = Counter(label: "tsdb_samples_appended_total")
    let outOfWindow = Counter(label: "tsdb_samples_out_of_window_total")
    let tooFarInFuture = Counter(label: "tsdb_samples_too_far_in_future_total")
    /// Writes refused by a ``SeriesLimits`` bound, by `reason` (the limit's name).
    let seriesRefused: [SeriesLimit: Counter] = Dictionary(uniqueKeysWithValues: SeriesLimit.allCases.map {
        ($0, Counter(label: "tsdb_series_refused_total", dimensions: [("reason", $0.rawValue)]))
    })
    let queryTimeouts = Counter(label: "tsdb_query_timeouts_total")
    let series = Gauge(label: "tsdb_series")
    let headSamples = Gauge(label: "tsdb_head_samples")
    let blocks = Gauge(label: "tsdb_blocks")
    let compactions = Counter(label: "tsdb_compactions_total")
    let fsync = Timer(label: "tsdb_wal_fsync_duration_seconds", preferredDisplayUnit: .seconds)
    let query = Timer(label: "tsdb_query_duration_seconds", preferredDisplayUnit: .seconds)
}
