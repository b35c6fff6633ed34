import Hummingbird
import Ingest
import TSDB

/// `POST /grafana/query`: each target becomes one downsampled query; the step honours
/// `intervalMs` and `maxDataPoints` over `range`, and `filters`/`adhocFilters` become matchers.
extension APIHandlers {
    func grafanaQuery(_ body: JSONValue) throws -> Response {
        guard let range = body["range"], range.isObject,
              let fromText = range["from"]?.string, let toText = range["to"]?.string
        else { throw APIError.badRequest("\"range\" with \"from\" and \"to\" (RFC 3339) is required") }
        guard let from = TimeParsing.parse(fromText) else { throw APIError.badRequest("range.from \"\(fromText)\" is not RFC 3339") }
        guard let to = TimeParsing.parse(toText) else { throw APIError.badRequest("range.to \"\(toText)\" is not RFC 3339") }
        guard from <= to else { throw APIError.badRequest("range.from is after range.to") }
        var maxPoints = config.maxGrafanaPoints
        if let m = body["maxDataPoints"], !m.isNull {
            guard let d = m.double, d.isFinite, d >= 1 else { throw APIError.badRequest("maxDataPoints must be a positive number") }
            if d < Double(maxPoints) { maxPoints = Int(d) }
        }
        var step = Nanos.millisecond
        if let i = body["intervalMs"], !i.isNull {
            guard let d = i.double, d.isFinite, d >= 0, d < 9e12 else { throw APIError.badRequest("intervalMs must be a non-negative number of milliseconds") }
            step = max(step, Int64(d) * Nanos.millisecond)
        }
        let (span, overflow) = to.subtractingReportingOverflow(from)
        guard !overflow else { throw APIError.badRequest("range spans more than Int64 nanoseconds can hold (about 292 years)") }
        let minStep = span / Int64(maxPoints) + (span % Int64(maxPoints) == 0 ? 0 : 1)
        step = max(step, minStep)

        var filterMatchers: [LabelMatcher] = []
        for key in ["filters", "adhocFilters"] {
            guard let list = body[key], !list.isNull else { continue }
            guard let items = list.array else { throw APIError.badRequest("\(key) must be an array of {key, operator, value}") }
            for item in items {
                guard let k = item["key"]?.string, !k.isEmpty, let opText = item["operator"]?.string,
                      let v = item["value"]?.scalarString
                else { throw APIError.badRequest("each of \(key) needs \"key\", \"operator\" and \"value\"") }
                guard let op = LabelMatcher.Operator(rawValue: opText) else {
                    throw APIError.badRequest("filter operator \"\(opText)\" is not supported; use =, !=, =~ or !~")
                }
                filterMatchers.append(try LabelMatcher(k, op, v))
            }
        }
        guard let targetsValue = body["targets"], !targetsValue.isNull else { return JSONWriter.emptyArray() }
        guard let targets = targetsValue.array else { throw APIError.badRequest("\"targets\" must be an array") }
        var w = JSONWriter(capacity: 64 * 1024)
        w.beginArray()
        for target in targets {
            guard target.isObject else { throw APIError.badRequest("each target must be an object") }
            if case .bool(true)? = target["hide"] { continue }
            guard let text = target["target"]?.string?.trimmingWhitespace(), !text.isEmpty else { continue }
            let payload = target["payload"].flatMap { $0.isObject ? $0 : nil } ?? .object([])
            var query = Query(start: from, end: to)
            let (metric, inline) = try MatcherSyntax.selector(text)
            query.metric = metric
            query.matchers = inline + filterMatchers
            for (field, label) in [("hostname", InventoryLabel.hostname), ("uuid", InventoryLabel.uuid), ("namespace", InventoryLabel.namespace)] {
                guard let values = payload[field]?.strings?.filter({ !$0.isEmpty && $0 != "$__all" && $0 != "All" }), !values.isEmpty else { continue }
                query.matchers.append(values.count == 1
                    ? try LabelMatcher(label, .equal, values[0])
                    : try LabelMatcher(label, .regex, values.map(regexEscape).joined(separator: "|")))
            }
            let aggName = payload["agg"]?.string ?? "avg"
            guard let agg = Aggregation(rawValue: aggName) else {
                throw APIError.badRequest("payload.agg \"\(aggName)\" is not one of \(Aggregation.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            query.aggregation = agg
            query.step = step
            if let groupBy = payload["group_by"]?.strings { query.groupBy = groupBy.filter { !$0.isEmpty } }
            query.limits = queryLimits
            try checkBuckets(start: from, end: to, step: step)
            let result = try db.query(query)
            let asTable = target["type"]?.string == "table" || payload["format"]?.string == "table" || target["format"]?.string == "table"
            if asTable { writeTable(&w, result) } else { writeTimeSeries(&w, result) }
        }
        w.endArray()
        return w.response()
    }

    func writeTimeSeries(_ w: inout JSONWriter, _ result: QueryResult) {
        for s in result.series {
            w.beginObject()
            w.key("target"); w.string(seriesName(s.labels))
            w.key("datapoints")
            w.beginArray()
            for i in s.timestamps.indices {
                w.pair(s.values[i], s.timestamps[i] / Nanos.millisecond)
            }
            w.endArray()
            w.endObject()
        }
    }

    func writeTable(_ w: inout JSONWriter, _ result: QueryResult) {
        var names = Set<String>()
        for s in result.series { for p in s.labels where p.name != Labels.metricName { names.insert(p.name) } }
        let columns = names.sorted()
        w.beginObject()
        w.key("type"); w.string("table")
        w.key("columns")
        w.beginArray()
        w.beginObject(); w.key("text"); w.string("Time"); w.key("type"); w.string("time"); w.endObject()
        w.beginObject(); w.key("text"); w.string("Metric"); w.key("type"); w.string("string"); w.endObject()
        for c in columns { w.beginObject(); w.key("text"); w.string(c); w.key("type"); w.string("string"); w.endObject() }
        w.beginObject(); w.key("text"); w.string("Value"); w.key("type"); w.string("number"); w.endObject()
        w.endArray()
        w.key("rows")
        w.beginArray()
        for s in result.series {
            for i in s.timestamps.indices {
                w.beginArray()
                w.int(s.timestamps[i] / Nanos.millisecond)
                w.string(s.labels.metric ?? "")
                for c in columns { w.string(s.labels[c] ?? "") }
                w.double(s.values[i])
                w.endArray()
            }
        }
        w.endArray()
        w.endObject()
    }

    /// `metric{label="value", …}` without `__name__`, the way Prometheus names series.
    func seriesName(_ labels: Labels) -> String {
        let rest = labels.pairs.filter { $0.name != Labels.metricName }.map { "\($0.name)=\"\($0.value)\"" }
        return (labels.metric ?? "") + (rest.isEmpty ? "" : "{" + rest.joined(separator: ", ") + "}")
    }
}

extension JSONWriter {
    static func emptyArray() -> Response {
        var w = JSONWriter()
        w.beginArray(); w.endArray()
        return w.response()
    }
}
