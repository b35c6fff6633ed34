import Hummingbird
import Ingest
import Primitives
import TSDB

/// The Grafana JSON datasource (simPod `simpod-json-datasource`, and the older simple-json
/// `/search` and `/annotations`) under `/grafana`.
extension APIHandlers {
    func addGrafanaRoutes(to grafana: RouterGroup<APIRequestContext>) {
        grafana.get("/") { _, _ -> Response in JSONWriter.statusResponse("ok") }
        grafana.post("metrics") { request, _ -> Response in
            _ = try await grafanaBody(request)
            var w = JSONWriter(capacity: 16 * 1024)
            w.beginArray()
            for metric in db.metrics().sorted(by: { $0.name < $1.name }) {
                w.beginObject()
                w.key("label"); w.string(metric.name)
                w.key("value"); w.string(metric.name)
                w.key("payloads"); writePayloadDefinitions(&w)
                w.endObject()
            }
            w.endArray()
            return w.response()
        }
        grafana.post("metric-payload-options") { request, _ -> Response in
            let body = try await grafanaBody(request)
            guard let name = body["name"]?.string else { throw APIError.badRequest("\"name\" (the payload whose options are wanted) is required") }
            let payload = body["payload"] ?? .object([])
            return optionList(payloadOptions(name: name, payload: payload).map { ($0, $0) })
        }
        grafana.post("query") { request, _ -> Response in
            let body = try await grafanaBody(request)
            return try await offload { try grafanaQuery(body) }
        }
        grafana.post("variable") { request, _ -> Response in
            let body = try await grafanaBody(request)
            let target: String
            if let s = body["payload"]?["target"]?.string ?? body["payload"]?.string ?? body["target"]?.string {
                target = s
            } else {
                throw APIError.badRequest("the variable query is missing: send {\"payload\": {\"target\": \"hosts\"}} (hosts, gpus, namespaces, metrics, label_names, label_values(NAME))")
            }
            let values = try variableValues(target.trimmingWhitespace())
            var w = JSONWriter()
            w.beginArray()
            for v in values { w.beginObject(); w.key("__text"); w.string(v); w.key("__value"); w.string(v); w.endObject() }
            w.endArray()
            return w.response()
        }
        grafana.post("tag-keys") { request, _ -> Response in
            _ = try await grafanaBody(request)
            var w = JSONWriter()
            w.beginArray()
            for name in db.labelNames().sorted() where name != Labels.metricName {
                w.beginObject(); w.key("type"); w.string("string"); w.key("text"); w.string(name); w.endObject()
            }
            w.endArray()
            return w.response()
        }
        grafana.post("tag-values") { request, _ -> Response in
            let body = try await grafanaBody(request)
            guard let key = body["key"]?.string, !key.isEmpty else { throw APIError.badRequest("\"key\" (a label name) is required") }
            var w = JSONWriter()
            w.beginArray()
            for v in db.labelValues(key).sorted() { w.beginObject(); w.key("text"); w.string(v); w.endObject() }
            w.endArray()
            return w.response()
        }
        grafana.post("search") { request, _ -> Response in
            let body = try await grafanaBody(request)
            let needle = (body["target"]?.string ?? "").lowercased()
            var w = JSONWriter()
            w.beginArray()
            for m in db.metrics().map(\.name).sorted() where needle.isEmpty || m.lowercased().contains(needle) { w.string(m) }
            w.endArray()
            return w.response()
        }
        grafana.post("annotations") { request, _ -> Response in
            let body = try await grafanaBody(request)
            // Without a range there is nothing to mark (Grafana always sends one).
            guard let range = body["range"], let fromText = range["from"]?.string, let toText = range["to"]?.string,
                  let from = try? TimeParser.parse(fromText), let to = try? TimeParser.parse(toText), from <= to
            else { return JSONWriter.emptyArray() }
            let annotation = body["annotation"]
            let payload = try Self.grafanaPayload(annotation?["query"].flatMap { $0.string?.hasPrefix("{") == true ? $0 : nil })
            var matchers: [LabelMatcher] = []
            for (field, label) in Self.grafanaPayloadFields {
                if let matcher = try Self.payloadMatcher(label, payload[field]) { matchers.append(matcher) }
            }
            return try await offload { [matchers] in
                var w = JSONWriter()
                GrafanaEvents(db: db).writeLegacy(&w, annotation: annotation, matchers: matchers, from: from, to: to)
                return w.response()
            }
        }
    }

    func grafanaBody(_ request: Request) async throws -> JSONValue {
        let bytes = try await BodyReader.read(request, limit: config.maxBodyBytes)
        let value = try JSONValue.parseBody(bytes)
        guard value.isObject else { throw APIError.badRequest("the request body must be a JSON object") }
        return value
    }

    static let payloadNames: [(name: String, label: String, type: String)] = [
        ("hostname", "Host", "multi-select"), ("uuid", "GPU", "multi-select"), ("namespace", "Namespace", "multi-select"),
        ("agg", "Aggregation", "select"), ("group_by", "Group by", "multi-select"), ("format", "Format", "select"),
    ]

    func writePayloadDefinitions(_ w: inout JSONWriter) {
        w.beginArray()
        for p in Self.payloadNames {
            w.beginObject()
            w.key("label"); w.string(p.label)
            w.key("name"); w.string(p.name)
            w.key("type"); w.string(p.type)
            w.endObject()
        }
        w.endArray()
    }

    func payloadOptions(name: String, payload: JSONValue) -> [String] {
        switch name {
        case "hostname": return db.hosts().map(\.hostname).sorted()
        case "uuid":
            let hosts = payload["hostname"]?.strings ?? []
            return db.gpus().filter { hosts.isEmpty || hosts.contains($0.hostname ?? "") }.map(\.uuid).sorted()
        case "namespace": return db.namespaces().map(\.namespace).sorted()
        case "agg": return Aggregation.allCases.map(\.rawValue)
        case "group_by": return db.labelNames().filter { $0 != Labels.metricName }.sorted()
        case "format": return ["time_series", "table"]
        default: return []
        }
    }

    func optionList(_ options: [(String, String)]) -> Response {
        var w = JSONWriter()
        w.beginArray()
        for (label, value) in options { w.beginObject(); w.key("label"); w.string(label); w.key("value"); w.string(value); w.endObject() }
        w.endArray()
        return w.response()
    }

    func variableValues(_ target: String) throws(APIError) -> [String] {
        switch target {
        case "hosts", "hostname", "hostnames": return db.hosts().map(\.hostname).sorted()
        case "gpus", "uuid", "uuids": return db.gpus().map(\.uuid).sorted()
        case "namespaces", "namespace": return db.namespaces().map(\.namespace).sorted()
        case "metrics", "metric": return db.metrics().map(\.name).sorted()
        case "label_names": return db.labelNames().filter { $0 != Labels.metricName }.sorted()
        default:
            if target.hasPrefix("label_values("), target.hasSuffix(")") {
                let name = String(target.dropFirst("label_values(".count).dropLast()).trimmingWhitespace()
                guard !name.isEmpty else { throw .badRequest("label_values() needs a label name") }
                return db.labelValues(name).sorted()
            }
            throw .badRequest("unknown variable query \"\(target)\"; use hosts, gpus, namespaces, metrics, label_names or label_values(NAME)")
        }
    }
}
