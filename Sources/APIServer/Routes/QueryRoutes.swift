import Hummingbird
import Primitives
import TSDB

extension APIHandlers {
    /// `GET /api/v1/query` and `GET /api/v1/query/explain`: the storage engine's general query.
    func addQueryRoutes(to v1: RouterGroup<APIRequestContext>) {
        v1.get("query") { request, _ -> Response in
            let q = try QueryParameters(request.uri)
            let query = try generalQuery(q)
            let format = try timeFormat(q)
            return try await offload {
                let result = try db.query(query)
                var w = JSONWriter(capacity: 4096)
                w.beginObject()
                w.key("count"); w.int(result.series.count)
                w.key("series")
                w.beginArray()
                for s in result.series {
                    w.beginObject()
                    w.key("metric"); w.stringOrNull(s.labels.metric)
                    w.key("labels"); w.beginObject()
                    for pair in s.labels where pair.name != Labels.metricName { w.key(pair.name); w.string(pair.value) }
                    w.endObject()
                    w.key("timestamps")
                    switch format {
                    case .ns: w.intArray(s.timestamps)
                    case .ms: w.intArray(s.timestamps, divisor: Nanos.millisecond)
                    case .s: w.beginArray(); for t in s.timestamps { w.double(Double(t) / 1e9) }; w.endArray()
                    case .rfc3339: w.beginArray(); for t in s.timestamps { w.timestamp(t) }; w.endArray()
                    }
                    w.key("values"); w.doubleArray(s.values)
                    w.endObject()
                }
                w.endArray()
                w.key("stats"); writeStats(&w, result.stats)
                w.endObject()
                return w.response()
            }
        }
        v1.get("query/explain") { request, _ -> Response in
            let q = try QueryParameters(request.uri)
            let query = try generalQuery(q)
            // Matching runs outside the engine lock but is CPU work: off the event loops.
            let plan = try await offload { try db.explain(query) }
            var w = JSONWriter()
            w.beginObject()
            w.key("steps"); w.beginArray(); for s in plan.steps { w.string(s) }; w.endArray()
            w.key("series_matched"); w.int(plan.seriesMatched)
            w.key("blocks"); w.beginArray(); for b in plan.blocks { w.string(b) }; w.endArray()
            w.key("chunks_total"); w.int(plan.chunksTotal)
            w.key("chunks_summarizable"); w.int(plan.chunksSummarizable)
            w.key("chunks_to_decode"); w.int(plan.chunksToDecode)
            w.key("chunks_pruned"); w.int(plan.chunksPruned)
            w.key("head_series"); w.int(plan.headSeries)
            w.key("estimated_samples"); w.int(plan.estimatedSamples)
            w.key("series_returned"); w.int(plan.seriesReturned)
            w.key("estimated_result_bytes"); w.int(plan.estimatedResultBytes)
            w.key("aggregation"); w.stringOrNull(plan.aggregation)
            w.key("step_ns"); if let s = plan.step { w.int(s) } else { w.null() }
            w.key("group_by")
            if let g = plan.groupBy { w.beginArray(); for n in g { w.string(n) }; w.endArray() } else { w.null() }
            w.endObject()
            return w.response()
        }
    }

    enum TimeFormat: String { case ns, ms, s, rfc3339 }

    func timeFormat(_ q: QueryParameters) throws(APIError) -> TimeFormat {
        guard let text = q.string("time_format"), !text.isEmpty else { return .ns }
        guard let f = TimeFormat(rawValue: text) else { throw .badRequest("time_format must be ns, ms, s or rfc3339") }
        return f
    }

    /// `metric`, `match[]` (PromQL-style matchers, repeatable), the window, `step`, `agg`,
    /// `group_by` (repeatable or comma-separated) and `limit` (most series).
    func generalQuery(_ q: QueryParameters) throws(APIError) -> Query {
        let window = try timeWindow(q)
        var query = Query(start: window.start, end: window.end)
        if let metric = q.string("metric"), !metric.isEmpty { query.metric = metric }
        for text in q.all("match[]", "match") {
            for matcher in try MatcherSyntax.split(text) {
                do { query.matchers.append(try LabelMatcher(parsing: matcher)) } catch { throw APIError.from(error) }
            }
        }
        let (step, aggregation) = try stepAndAggregation(q)
        query.step = step
        query.aggregation = aggregation
        let groupBy = q.all("group_by", split: true)
        if !groupBy.isEmpty || q.string("group_by") != nil {
            query.groupBy = groupBy
            if query.aggregation == nil { query.aggregation = .avg }
        }
        if q.string("limit") != nil { query.limit = try q.int("limit", default: 0, range: 1...1_000_000) }
        query.limits = queryLimits
        try checkBuckets(start: query.start, end: query.end, step: step)
        return query
    }

    func writeStats(_ w: inout JSONWriter, _ s: QueryStats) {
        w.beginObject()
        w.key("series_matched"); w.int(s.seriesMatched)
        w.key("series_returned"); w.int(s.seriesReturned)
        w.key("blocks_touched"); w.int(s.blocksTouched)
        w.key("chunks_total"); w.int(s.chunksTotal)
        w.key("chunks_summarized"); w.int(s.chunksSummarized)
        w.key("chunks_decoded"); w.int(s.chunksDecoded)
        w.key("chunks_pruned"); w.int(s.chunksPruned)
        w.key("samples_scanned"); w.int(s.samplesScanned)
        w.key("samples_returned"); w.int(s.samplesReturned)
        w.key("duration_ns"); w.int(s.durationNanos)
        w.endObject()
    }
}
