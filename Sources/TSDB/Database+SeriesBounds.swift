extension TSDB {
    /// Labels of the series `matchers` select whose first-to-last sample span meets
    /// [`start`, `end`] (nanoseconds, inclusive), answered from the catalog's postings and the
    /// per-series time bounds the engine keeps: no chunk is read or decoded. A series with a
    /// gap covering the whole window is still listed (its span meets the window), as
    /// Prometheus' chunk-granular `/series` may list it too.
    ///
    /// - Throws: ``TSDBError/seriesLimitExceeded(limit:returned:)`` past `maxSeries`, and the
    ///   selection's own errors (a closed database, a timed-out regex scan).
    package func series(matchers: [LabelMatcher], overlapping start: Int64, _ end: Int64, maxSeries: Int? = nil) throws -> [Labels] {
        let (kept, view) = try selectedSeries(matchers, overlapping: (start, end))
        if let maxSeries, kept.count > maxSeries { throw TSDBError.seriesLimitExceeded(limit: maxSeries, returned: kept.count) }
        return kept.compactMap { view.labels(of: $0) }
    }
}
