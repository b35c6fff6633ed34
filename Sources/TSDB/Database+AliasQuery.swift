extension TSDB {
    /// Runs `query` with its matchers read through ``GPULabelAliases`` (see
    /// ``GPULabelMatchers``): a filter on `Hostname` also finds series written with `hostname`
    /// or `host`, one on `UUID` those with `uuid`, and so on. Series keep their own labels.
    ///
    /// With one spelling in the database this is exactly ``query(_:)``. Otherwise each
    /// alternative is queried and the results are combined; grouped results of one group that
    /// come from several spellings are merged exactly for `sum`, `count`, `min`, `max` and
    /// `avg` (as sum ÷ count). For `first`, `last` and the quantiles such a group cannot be
    /// merged exactly; its parts are returned side by side and named in `warnings`.
    ///
    /// ```swift
    /// var q = Query(metric: "DCGM_FI_DEV_GPU_UTIL", matchers: [try LabelMatcher("Hostname", .equal, "node-7")])
    /// let (result, warnings) = try db.queryThroughAliases(q)   // node-7's series, whatever the spelling
    /// ```
    public func queryThroughAliases(_ query: Query) throws -> (result: QueryResult, warnings: [String]) {
        let alternatives = try GPULabelMatchers.alternatives(query.matchers, labelNames: Set(labelNames()))
        if alternatives.count == 1 {
            var q = query
            q.matchers = alternatives[0]
            return (try self.query(q), [])
        }
        var merged = QueryResult(series: [], stats: QueryStats())
        guard !alternatives.isEmpty else { return (merged, []) }
        let grouped = query.aggregation != nil && query.groupBy != nil
        // avg over several spellings: sum and count per spelling, divided once merged.
        let parts: [Aggregation?] = grouped && query.aggregation == .avg ? [.sum, .count] : [query.aggregation]
        var results: [[SeriesResult]] = []
        for agg in parts {
            var all: [SeriesResult] = []
            for matchers in alternatives {
                var q = query
                q.matchers = matchers
                q.aggregation = agg
                let r = try self.query(q)
                all += r.series
                merged.stats.addWhole(r.stats)
            }
            results.append(all)
        }
        var warnings: [String] = []
        var series: [SeriesResult]
        if grouped, let agg = query.aggregation {
            switch agg {
            case .sum, .count, .min, .max:
                let combine: (Double, Double) -> Double
                switch agg {
                case .min: combine = { Swift.min($0, $1) }
                case .max: combine = { Swift.max($0, $1) }
                default: combine = { $0 + $1 }
                }
                series = Self.mergeGroups(results[0], combine: combine)
            case .avg:
                let sums = Self.mergeGroups(results[0], combine: { $0 + $1 })
                let counts = Dictionary(Self.mergeGroups(results[1], combine: { $0 + $1 }).map { ($0.labels, $0) }, uniquingKeysWith: { a, _ in a })
                series = sums.map { s in Self.divide(s, by: counts[s.labels]) }
            case .first, .last, .p50, .p90, .p95, .p99:
                series = results[0]
                let keys = series.map(\.labels)
                if Set(keys).count < keys.count {
                    warnings.append("\(agg.rawValue) of a group whose series spell a GPU label differently (for example Hostname and hostname) cannot be merged; its parts are returned separately")
                }
            }
        } else {
            series = results[0]
        }
        series.sort { $0.labels.canonicalBytes.lexicographicallyPrecedes($1.labels.canonicalBytes) }
        if let limit = query.limit, series.count > limit {
            throw TSDBError.resultLimitExceeded(limit: limit, series: series.count)
        }
        merged.series = series
        merged.stats.seriesReturned = series.count
        merged.stats.samplesReturned = series.reduce(0) { $0 + $1.timestamps.count }
        return (merged, warnings)
    }

    /// Series of equal labels combined point by point (timestamps unioned, in order).
    static func mergeGroups(_ series: [SeriesResult], combine: (Double, Double) -> Double) -> [SeriesResult] {
        var order: [Labels] = []
        var byKey: [Labels: [Int64: Double]] = [:]
        for s in series {
            if byKey[s.labels] == nil { order.append(s.labels) }
            var points = byKey[s.labels] ?? [:]
            for (t, v) in zip(s.timestamps, s.values) { points[t] = points[t].map { combine($0, v) } ?? v }
            byKey[s.labels] = points
        }
        return order.map { key in
            let points = (byKey[key] ?? [:]).sorted { $0.key < $1.key }
            return SeriesResult(labels: key, timestamps: points.map(\.key), values: points.map(\.value))
        }
    }

    static func divide(_ sums: SeriesResult, by counts: SeriesResult?) -> SeriesResult {
        var byTime: [Int64: Double] = [:]
        if let counts { for (t, c) in zip(counts.timestamps, counts.values) { byTime[t] = c } }
        var out = sums
        for i in out.values.indices {
            let c = byTime[out.timestamps[i]] ?? 0
            out.values[i] = c > 0 ? out.values[i] / c : .nan
        }
        return out
    }
}

extension QueryStats {
    /// Adds every count of another whole query (matched series, blocks and time included),
    /// unlike `add(_:)`, which adds one series' reading counts.
    mutating func addWhole(_ o: QueryStats) {
        add(o)
        seriesMatched += o.seriesMatched
        blocksTouched += o.blocksTouched
        durationNanos += o.durationNanos
    }
}
