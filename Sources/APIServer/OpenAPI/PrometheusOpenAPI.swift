/// The Prometheus query API part of the OpenAPI document (`/prometheus/api/v1/…`). Bodies
/// follow Prometheus' own shapes (`{"status", "data"}` or `{"status", "errorType", "error"}`),
/// documented in Prometheus' HTTP API reference; the schemas here say only that much.
enum PrometheusOpenAPI {
    static let envelope: OA = .object([("status", .stringEnum(["success", "error"]))], required: ["status"])
    static let form: OA = .o([("content", .o([("application/x-www-form-urlencoded", .o([("schema", .o([("type", .s("object"))]))]))]))])
    static let responses: [(String, OA)] = [
        ("200", .json(envelope, "status success with data")),
        ("400", .json(envelope, "bad_data: the expression or a parameter is malformed")),
        ("422", .json(envelope, "execution: evaluation failed, or a construct this server does not support (named)")),
        ("503", .json(envelope, "timeout")),
    ]
    static let time = OA.param("time", "query", .string, "Evaluation time: float seconds or RFC 3339 (default now)")
    static let start = OA.param("start", "query", .string, "Float seconds or RFC 3339")
    static let end = OA.param("end", "query", .string, "Float seconds or RFC 3339")
    static let match = OA.param("match[]", "query", .array(.string), "Series selectors", explode: true)

    /// GET with query parameters, and POST with the same as a form body (path parameters on both).
    static func both(_ id: String, _ summary: String, _ params: [OA], path: [OA] = []) -> OA {
        .o([("get", .op(id, "prometheus", summary, params: path + params, responses: responses)),
            ("post", .op(id + "Post", "prometheus", summary + " (form body)", params: path, body: form, responses: responses))])
    }

    static var paths: [(String, OA)] {
        [
            ("/prometheus/api/v1/query", both("promQuery", "PromQL instant query", [
                .param("query", "query", .string, "PromQL expression"), time,
                .param("timeout", "query", .string, "Evaluation timeout (default 2m)"),
            ])),
            ("/prometheus/api/v1/query_range", both("promQueryRange", "PromQL range query, evaluated at start + k·step", [
                .param("query", "query", .string, "PromQL expression"), start, end,
                .param("step", "query", .string, "Step: float seconds or a duration (15s)"),
                .param("timeout", "query", .string, "Evaluation timeout (default 2m)"),
            ])),
            ("/prometheus/api/v1/series", both("promSeries", "Series matching match[]", [match, start, end])),
            ("/prometheus/api/v1/labels", both("promLabels", "Label names", [match, start, end])),
            ("/prometheus/api/v1/label/{name}/values", both("promLabelValues", "Values of one label", [match, start, end],
                                                             path: [.param("name", "path", .string, "Label name")])),
            ("/prometheus/api/v1/metadata", .o([("get", .op("promMetadata", "prometheus", "Metric metadata (none is stored)", responses: responses))])),
            ("/prometheus/api/v1/status/buildinfo", .o([("get", .op("promBuildInfo", "prometheus", "Build information", responses: responses))])),
        ]
    }
}
