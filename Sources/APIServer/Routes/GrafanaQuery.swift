import HTTPTypes
import Hummingbird
import Ingest
import Primitives
import TSDB

/// `POST /grafana/query`: each target becomes one downsampled query; the step honours
/// `intervalMs` and `maxDataPoints` over `range`, and `filters`/`adhocFilters` become matchers.
/// The target `gpu_events` answers annotation queries (see ``GrafanaEvents``).
extension APIHandlers {
    func grafanaQuery(_ body: JSONValue) throws -> Response {
        guard let range = body["range"], range.isObject,
              let fromText = range["from"]?.string, let toText = range["to"]?.string
        else { throw APIError.badRequest("\"range\" with \"from\" and \"to\" (RFC 3339) is required") }
        let from: Int64, to: Int64
        do { from = try TimeParser.parse(fromText) } catch { throw APIError.badRequest("range.from: \(error.description)") }
        do { to = try TimeParser.parse(toText) } catch { throw APIError.badRequest("range.to: \(error.description)") }
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

        var filters = GrafanaFilters()
        for key in ["filters", "adhocFilters"] {
            guard let list = body[key], !list.isNull else { continue }
            guard let items = list.array else { throw APIError.badRequest("\(key) must be an array of {key, operator, value}") }
            for item in items { try filters.add(item, db: db) }
        }
        var warnings = filters.warnings
        guard let targetsValue = body["targets"], !targetsValue.isNull else { return JSONWriter.emptyArray() }
        guard let targets = targetsValue.array else { throw APIError.badRequest("\"targets\" must be an array") }
        guard targets.count <= config.maxGrafanaTargets else {
            throw APIError(.badRequest, code: "grafana_targets_limit_exceeded",
                           message: "the query has \(targets.count) targets, over the limit of \(config.maxGrafanaTargets) per request (max_grafana_targets: --max-grafana-targets, env MAX_GRAFANA_TARGETS); split the panel's queries")
        }
        var w = JSONWriter(capacity: 64 * 1024)
        w.beginArray()
        for target in targets {
            guard target.isObject else { throw APIError.badRequest("each target must be an object") }
            if case .bool(true)? = target["hide"] { continue }
            guard let text = target["target"]?.string?.trimmingWhitespace(), !text.isEmpty else { continue }
            let payload = try Self.grafanaPayload(target["payload"])
            let refId = target["refId"]?.string
            var query = Query(start: from, end: to)
            query.matchers = filters.matchers
            for (field, label) in Self.grafanaPayloadFields {
                if let matcher = try Self.payloadMatcher(label, payload[field]) { query.matchers.append(matcher) }
            }
            if text == GrafanaEvents.target {
                guard !filters.matchesNothing else { continue }
                GrafanaEvents(db: db).write(&w, matchers: query.matchers, from: from, to: to, refId: refId)
                continue
            }
            let (metric, inline) = try MatcherSyntax.selector(text)
            query.metric = metric
            query.matchers += inline
            guard !filters.matchesNothing else { continue }
            let aggName = payload["agg"]?.string ?? "avg"
            guard let agg = Aggregation(rawValue: aggName) else {
                throw APIError.badRequest("payload.agg \"\(aggName)\" is not one of \(Aggregation.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            query.aggregation = agg
            query.step = step
            if let groupBy = payload["group_by"]?.strings { query.groupBy = groupBy.filter { !$0.isEmpty } }
            query.limits = queryLimits
            try checkBuckets(start: from, end: to, step: step)
            let (result, aliasWarnings) = try db.queryThroughAliases(query)
            warnings += aliasWarnings
            let asTable = target["type"]?.string == "table" || payload["format"]?.string == "table" || target["format"]?.string == "table"
            let alias = (target["alias"]?.string ?? payload["alias"]?.string).flatMap { $0.isEmpty ? nil : $0 }
            if asTable { writeTable(&w, result, refId: refId) } else { writeTimeSeries(&w, result, refId: refId, alias: alias) }
        }
        w.endArray()
        for warning in warnings { logger.warning("grafana query", metadata: ["warning": .string(warning)]) }
        guard !warnings.isEmpty else { return w.response() }
        // RFC 9111's Warning header, so the reason is visible in the browser's network tab.
        let text = warnings.joined(separator: "; ").replacingOccurrences(of: "\"", with: "'")
        return w.response(headers: [HTTPField.Name("Warning")!: "299 telemetry \"\(text.prefix(512))\""])
    }

    /// Payload fields that filter, and the label each filters on. Matchers are read through the
    /// GPU label alias table (``TSDB/queryThroughAliases(_:)``): `Hostname` also matches
    /// `hostname`/`host`, `UUID` `uuid`, `gpu` `gpu_id`/`index`, and so on.
    static let grafanaPayloadFields = [
        ("hostname", InventoryLabel.hostname), ("host", InventoryLabel.hostname), ("uuid", InventoryLabel.uuid),
        ("gpu", InventoryLabel.gpu), ("namespace", InventoryLabel.namespace), ("pod", InventoryLabel.pod),
    ]

    /// The target's payload: an object, or (as dashboards in code mode store it) a string
    /// holding one. Anything else is a 400 rather than silently dropping its filters.
    static func grafanaPayload(_ value: JSONValue?) throws(APIError) -> JSONValue {
        guard let value, !value.isNull else { return .object([]) }
        if value.isObject { return value }
        if let text = value.string {
            if text.trimmingWhitespace().isEmpty { return .object([]) }
            let parsed = try JSONValue.parseBody(Array(text.utf8))
            guard parsed.isObject else { throw .badRequest("payload must be a JSON object, got \"\(text.prefix(80))\"") }
            return parsed
        }
        throw .badRequest("payload must be a JSON object")
    }

    /// Payload values as the plugin sends them: already regex-escaped (`a\.b`), several values
    /// as `(a|b)` or as an array, "All" as every value. Each is an anchored regex; a value that
    /// is not a valid regex is taken literally.
    static func payloadMatcher(_ label: String, _ value: JSONValue?) throws -> LabelMatcher? {
        guard let values = value?.strings?.filter({ !$0.isEmpty && $0 != "$__all" && $0 != "All" && $0 != "*" && $0 != ".*" }),
              !values.isEmpty else { return nil }
        let patterns = values.map { v -> String in (try? LabelMatcher(label, .regex, v)) != nil ? v : regexEscape(v) }
        return try LabelMatcher(label, .regex, patterns.count == 1 ? patterns[0] : patterns.map { "(?:\($0))" }.joined(separator: "|"))
    }

    func writeTimeSeries(_ w: inout JSONWriter, _ result: QueryResult, refId: String? = nil, alias: String? = nil) {
        for s in result.series {
            w.beginObject()
            w.key("target"); w.string(alias.map { Self.expandAlias($0, s.labels) } ?? seriesName(s.labels))
            if let refId { w.key("refId"); w.string(refId) }
            w.key("tags"); w.beginObject()
            for p in s.labels where p.name != Labels.metricName { w.key(p.name); w.string(p.value) }
            w.endObject()
            w.key("datapoints")
            w.beginArray()
            for i in s.timestamps.indices {
                w.pair(s.values[i], s.timestamps[i] / Nanos.millisecond)
            }
            w.endArray()
            w.endObject()
        }
    }

    /// A legend like Prometheus': `{{Hostname}} GPU {{gpu}}` takes the series' labels
    /// (`{{__name__}}` its metric); text without placeholders names every series.
    static func expandAlias(_ alias: String, _ labels: Labels) -> String {
        guard alias.contains("{{") else { return alias }
        var out = ""
        var rest = Substring(alias)
        while let open = rest.range(of: "{{") {
            out += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "}}") else { out += rest[open.lowerBound...]; return out }
            let name = String(rest[open.upperBound..<close.lowerBound]).trimmingWhitespace()
            out += labels[name] ?? ""
            rest = rest[close.upperBound...]
        }
        return out + rest
    }

    func writeTable(_ w: inout JSONWriter, _ result: QueryResult, refId: String? = nil) {
        var names = Set<String>()
        for s in result.series { for p in s.labels where p.name != Labels.metricName { names.insert(p.name) } }
        let columns = names.sorted()
        w.beginObject()
        w.key("type"); w.string("table")
        if let refId { w.key("refId"); w.string(refId) }
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
