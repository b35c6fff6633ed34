import Hummingbird
import TSDB

extension APIHandlers {
    /// `GET /api/v1/gpus/{uuid}/telemetry`: one GPU's samples in ascending time order.
    func addTelemetryRoutes(to v1: RouterGroup<APIRequestContext>) {
        v1.get("gpus/:uuid/telemetry") { request, context -> Response in
            let uuid = try pathParameter(context, "uuid")
            // Every parameter is checked before the GPU's existence: 400 comes before 404.
            let q = try QueryParameters(request.uri)
            let window = try timeWindow(q)
            let metrics = q.all("metric", split: true)
            let (step, aggregation) = try stepAndAggregation(q)
            let limit = try q.int("limit", default: config.defaultSampleLimit, range: 1...config.maxSampleLimit)
            let cursor = try q.string("cursor").flatMap { c throws(APIError) in c.isEmpty ? nil : try TelemetryCursor(c) }
            guard db.gpu(uuid: uuid) != nil else { throw APIError.notFound("no GPU with uuid \"\(uuid)\"") }

            var query = Query(start: window.start, end: window.end)
            query.matchers = [try LabelMatcher(db.uuidLabelName(of: uuid), .equal, uuid)]
            if metrics.count == 1 {
                query.metric = metrics[0]
            } else if metrics.count > 1 {
                query.metrics = metrics
            }
            if let cursor { query.start = max(query.start, cursor.timestamp) }
            query.step = step
            query.aggregation = aggregation
            query.limits = queryLimits
            // The page needs the first `limit` samples after the cursor and one more to know
            // whether another page follows: the planner decodes about that many, not the window.
            if aggregation == nil { query.earliestSamples = limit + 1 }
            try checkBuckets(start: query.start, end: query.end, step: step)
            let page = query
            return try await offload { telemetryPage(uuid: uuid, result: try db.query(page), cursor: cursor, limit: limit) }
        }
    }

    func timeWindow(_ q: QueryParameters) throws(APIError) -> (start: Int64, end: Int64) {
        let start = try q.time("start_time", "start") ?? .min
        let end = try q.time("end_time", "end") ?? .max
        guard start <= end else { throw APIError.badRequest("start_time is after end_time") }
        return (start, end)
    }

    /// Refuses (422) a step that would cut a bounded window into more buckets than the
    /// answer's memory limit holds (16 bytes a bucket), before the engine does arithmetic on it.
    func checkBuckets(start: Int64, end: Int64, step: Int64?) throws(APIError) {
        guard let step, start != .min, end != .max else { return }
        let limit = (queryLimits ?? db.options.limits).maxResultBytes
        let (span, overflow) = end.subtractingReportingOverflow(start)
        if overflow || span / step >= Int64(limit / 16) {
            throw .queryLimit("step \(step) ns cuts the window into more buckets than fit the answer's limit of \(limit) bytes (max_result_bytes: --max-result-bytes, env QUERY_MAX_RESULT_BYTES); use a larger step or a shorter window")
        }
    }

    func stepAndAggregation(_ q: QueryParameters) throws(APIError) -> (Int64?, Aggregation?) {
        let step = try q.duration("step")
        var aggregation: Aggregation?
        if let name = q.string("agg", "aggregation"), !name.isEmpty {
            guard let a = Aggregation(rawValue: name) else {
                throw APIError.badRequest("agg \"\(name)\" is not one of \(Aggregation.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            aggregation = a
        }
        if step != nil && aggregation == nil { aggregation = .avg }
        return (step, aggregation)
    }

    func telemetryPage(uuid: String, result: QueryResult, cursor: TelemetryCursor?, limit: Int) -> Response {
        // Series order within one timestamp: metric name, then the stable hash of the labels.
        struct SeriesKey { var metric: String; var hash: UInt64 }
        let keys = result.series.map { SeriesKey(metric: $0.labels.metric ?? "", hash: $0.labels.stableHash) }
        let order = keys.indices.sorted { a, b in
            keys[a].metric != keys[b].metric ? keys[a].metric < keys[b].metric : keys[a].hash < keys[b].hash
        }
        // k-way merge by (timestamp, series order) with one cursor per series.
        var positions = [Int](repeating: 0, count: result.series.count)
        if let cursor {
            for s in result.series.indices {
                let ts = result.series[s].timestamps
                var lo = 0, hi = ts.count
                while lo < hi { let mid = (lo + hi) / 2; if ts[mid] < cursor.timestamp { lo = mid + 1 } else { hi = mid } }
                if lo < ts.count, ts[lo] == cursor.timestamp {
                    let k = keys[s]
                    let afterCursor = k.metric != cursor.metric ? k.metric > cursor.metric : k.hash > cursor.hash
                    if !afterCursor { lo += 1 }
                }
                positions[s] = lo
            }
        }
        var picked: [(series: Int, index: Int)] = []
        picked.reserveCapacity(min(limit, 4096))
        var exhausted = false
        while picked.count < limit {
            var best = -1
            var bestTS = Int64.max
            for s in order where positions[s] < result.series[s].timestamps.count {
                let t = result.series[s].timestamps[positions[s]]
                if t < bestTS { bestTS = t; best = s }
            }
            if best < 0 { exhausted = true; break }
            picked.append((best, positions[best]))
            positions[best] += 1
        }
        if !exhausted {
            exhausted = !result.series.indices.contains { positions[$0] < result.series[$0].timestamps.count }
        }
        // The per-series part of each item (metric and label fields) is encoded once, and the
        // buffer is sized from it so the page is written without growing.
        var fragments: [[UInt8]?] = Array(repeating: nil, count: result.series.count)
        var capacity = 256 + uuid.utf8.count
        for (s, _) in picked {
            if fragments[s] == nil { fragments[s] = Self.seriesFragment(metric: keys[s].metric, labels: result.series[s].labels) }
            capacity += fragments[s]!.count + 64
        }
        var w = JSONWriter(capacity: capacity)
        w.beginObject()
        w.key("uuid"); w.string(uuid)
        w.key("count"); w.int(picked.count)
        w.key("data")
        w.beginArray()
        for (s, i) in picked {
            let series = result.series[s]
            w.sampleObject(timeKey: "timestamp", series.timestamps[i], valueKey: "value", series.values[i], fragment: fragments[s]!)
        }
        w.endArray()
        w.key("next_cursor")
        if !exhausted, let last = picked.last {
            let t = result.series[last.series].timestamps[last.index]
            w.string(TelemetryCursor(timestamp: t, metric: keys[last.series].metric, hash: keys[last.series].hash).encoded)
        } else {
            w.null()
        }
        w.endObject()
        return w.response()
    }

    /// `,"metric":"…","hostname":"…",…` for splicing after the first fields of an item.
    static func seriesFragment(metric: String, labels: Labels) -> [UInt8] {
        var w = JSONWriter(capacity: 256)
        w.beginObject()
        w.key("metric"); w.string(metric)
        for (names, field) in sampleFields {
            if let v = GPULabelAliases.first(names, in: labels) { w.key(field); w.string(v) }
        }
        w.endObject()
        // Drop the braces: the fragment continues an open object.
        var bytes = Array(w.bytes.dropFirst().dropLast())
        bytes.insert(UInt8(ascii: ","), at: 0)
        return bytes
    }

    /// The JSON fields of a sample and the label names they read (the inventory's aliases).
    static let sampleFields: [([String], String)] = [
        (GPULabelAliases.hostname, "hostname"), (GPULabelAliases.index, "gpu_id"), (GPULabelAliases.device, "device"),
        (GPULabelAliases.model, "model_name"), (GPULabelAliases.container, "container"),
        (GPULabelAliases.pod, "pod"), (GPULabelAliases.namespace, "namespace"),
    ]
}

/// The position after the last sample of a telemetry page.
struct TelemetryCursor {
    var timestamp: Int64
    var metric: String
    var hash: UInt64

    init(timestamp: Int64, metric: String, hash: UInt64) {
        self.timestamp = timestamp
        self.metric = metric
        self.hash = hash
    }

    init(_ encoded: String) throws(APIError) {
        let text = try Cursor.decode(encoded)
        let parts = text.split(separator: "\u{1F}", omittingEmptySubsequences: false)
        guard parts.count == 3, let t = Int64(parts[0]), let h = UInt64(parts[2], radix: 16) else {
            throw .badRequest("cursor is not valid; pass next_cursor from a previous page unchanged")
        }
        self.init(timestamp: t, metric: String(parts[1]), hash: h)
    }

    var encoded: String { Cursor.encode("\(timestamp)\u{1F}\(metric)\u{1F}\(String(hash, radix: 16))") }
}

/// Escapes a literal for use inside an anchored regular expression.
func regexEscape(_ s: String) -> String {
    var out = ""
    for c in s {
        if "\\^$.|?*+()[]{}".contains(c) { out.append("\\") }
        out.append(c)
    }
    return out
}
