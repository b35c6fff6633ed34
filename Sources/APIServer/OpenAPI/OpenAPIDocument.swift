import TSDB

/// The OpenAPI 3.0 description of every endpoint, served at `/openapi.json`.
/// Tests and schemathesis check real responses against it.
enum OpenAPIDocument {
    static func json() -> [UInt8] {
        var w = JSONWriter(capacity: 64 * 1024)
        document.write(&w)
        return w.bytes
    }

    static let listParams: [OA] = [
        .param("limit", "query", .intRange(1, 100_000), "Page size (default 100)"),
        .param("cursor", "query", .string, "next_cursor of the previous page"),
    ]
    static let time: OA = .o([("anyOf", .a([.dateTime, .o([("type", .s("number")), ("minimum", .i(-9_000_000_000)), ("maximum", .i(9_000_000_000))])]))])
    static let windowParams: [OA] = [
        .param("start_time", "query", time, "Inclusive start: RFC 3339 or epoch (s, ms, µs or ns by magnitude)"),
        .param("end_time", "query", time, "Inclusive end: RFC 3339 or epoch"),
        .param("start", "query", time, "Alias of start_time"),
        .param("end", "query", time, "Alias of end_time"),
    ]
    static let aggParams: [OA] = [
        .param("step", "query", .string, "Bucket width for downsampling: 30s, 5m, 1h, 500ms or seconds"),
        .param("agg", "query", .stringEnum(Aggregation.allCases.map(\.rawValue)), "Aggregation inside each bucket (default avg when step is set)"),
    ]
    static let uuidParam: OA = .param("uuid", "path", .string, "GPU UUID (the DCGM UUID label)")

    static func jsonRequest(_ schema: OA) -> OA {
        .o([("required", .b(true)), ("content", .o([("application/json", .o([("schema", schema)]))]))])
    }
    static let anyObject: OA = .o([("type", .s("object"))])

    static let writeResponses: [(String, OA)] = [
        ("204", .o([("description", .s("Stored and durable")), ("headers", .o([
            ("X-Samples-Written", .header("Samples stored")),
            ("X-Samples-Rejected", .header("Samples refused (outside the out-of-order window), not stored")),
        ]))])),
        ("400", .error("The body is not valid (the message names the line), or samples lie more than --max-future ahead of the server clock (code timestamp_too_far_in_future; the rest was stored and the message says how many), or a new series is over a series limit (code series_limit_exceeded, naming the limit and flag; nothing was stored)")),
        ("413", .error("Body larger than max_body_bytes")),
        ("429", .error("The new series would overdraw --max-new-series-per-hour (code new_series_budget_exhausted; nothing was stored; retry after Retry-After seconds)")),
        ("415", .error("Unsupported Content-Type or Content-Encoding")),
        ("503", .error("The database is closed")),
    ]

    static var paths: OA {
        .o([
            ("/health", .o([("get", .op("health", "service", "Liveness", responses: [("200", .json(.ref("Status"), "Alive"))], secured: false))])),
            ("/ready", .o([("get", .op("ready", "service", "Readiness: 503 until the WAL is replayed", responses: [
                ("200", .json(.ref("Status"), "Ready")), ("503", .error("Not ready")),
            ], secured: false))])),
            ("/metrics", .o([("get", .op("metrics", "service", "Prometheus metrics", responses: [
                ("200", .content("text/plain", .string, "Prometheus text exposition")),
            ], secured: false))])),
            ("/openapi.json", .o([("get", .op("openapi", "service", "This document", responses: [("200", .json(anyObject, "OpenAPI 3 document"))], secured: false))])),
            ("/docs", .o([("get", .op("docs", "service", "Swagger UI", responses: [("200", .content("text/html", .string, "HTML page"))], secured: false))])),
            ("/api/v1/gpus", .o([("get", .op("listGPUs", "inventory", "GPUs with telemetry", params: [
                .param("hostname", "query", .string, "Only GPUs of this host"),
                .param("namespace", "query", .string, "Only GPUs seen in this namespace"),
                .param("model", "query", .string, "Only GPUs of this model name"),
            ] + listParams, responses: [("200", .json(.ref("GPUList"), "A page of GPUs sorted by uuid")), ("400", .error("Bad parameter"))]))])),
            ("/api/v1/gpus/{uuid}", .o([("get", .op("getGPU", "inventory", "One GPU", params: [uuidParam], responses: [
                ("200", .json(.ref("GPU"), "The GPU")), ("400", .error("Bad parameter")), ("404", .error("Unknown GPU")),
            ]))])),
            ("/api/v1/gpus/{uuid}/telemetry", .o([("get", .op("getGPUTelemetry", "telemetry", "Samples of one GPU in ascending time order",
                "Both ends of the window are inclusive. Parameter errors (400) are reported before an unknown GPU (404).",
                params: [uuidParam] + windowParams + [
                    .param("metric", "query", .array(.string), "Metric name; repeatable or comma-separated", explode: true),
                ] + aggParams + [
                    .param("limit", "query", .intRange(1, 100_000), "Samples per page (default 1000)"),
                    .param("cursor", "query", .string, "next_cursor of the previous page"),
                ], responses: [
                    ("200", .json(.ref("TelemetryPage"), "A page of samples")), ("400", .error("Bad parameter")),
                    ("404", .error("Unknown GPU")), ("422", .error("Query over a limit (the message names it)")),
                    ("503", .error("The database is closed, or the query ran past --query-timeout (code query_timeout)")),
                ]))])),
            ("/api/v1/gpus/{uuid}/stream", .o([("get", .op("streamGPU", "telemetry", "New samples of one GPU as Server-Sent Events",
                "Each event is `event: sample` with a TelemetrySample as JSON data; comments are heartbeats.",
                params: [uuidParam, .param("metric", "query", .array(.string), "Only these metrics", explode: true)],
                responses: [("200", .content("text/event-stream", .string, "Event stream")), ("400", .error("Bad parameter")), ("404", .error("Unknown GPU")),
                            ("429", .error("--max-stream-subscribers streams are open (code stream_limit_exceeded; retry after Retry-After seconds)"))]))])),
            ("/api/v1/hosts", .o([("get", .op("listHosts", "inventory", "Hosts with their GPU counts", params: listParams, responses: [
                ("200", .json(.ref("HostList"), "A page of hosts sorted by name")), ("400", .error("Bad parameter")),
            ]))])),
            ("/api/v1/hosts/{hostname}/gpus", .o([("get", .op("listHostGPUs", "inventory", "GPUs of one host",
                params: [.param("hostname", "path", .string, "Host name")] + listParams, responses: [
                    ("200", .json(.ref("HostGPUList"), "A page of the host's GPUs")), ("400", .error("Bad parameter")), ("404", .error("Unknown host")),
                ]))])),
            ("/api/v1/namespaces", .o([("get", .op("listNamespaces", "inventory", "Kubernetes namespaces seen", params: listParams, responses: [
                ("200", .json(.ref("NamespaceList"), "A page of namespaces")), ("400", .error("Bad parameter")),
            ]))])),
            ("/api/v1/metrics", .o([("get", .op("listMetrics", "inventory", "Metric names with series counts", params: listParams, responses: [
                ("200", .json(.ref("MetricList"), "A page of metrics")), ("400", .error("Bad parameter")),
            ]))])),
            ("/api/v1/query", .o([("get", .op("query", "query", "General query: matchers, window, step, aggregation, grouping",
                params: queryParams + [.param("time_format", "query", .stringEnum(["ns", "ms", "s", "rfc3339"]), "Timestamp format (default ns)")],
                responses: [
                    ("200", .json(.ref("QueryResult"), "One entry per series or group")), ("400", .error("Bad parameter or matcher")),
                    ("422", .error("Query over a limit (the message names it)")), ("503", .error("The database is closed, or the query ran past --query-timeout (code query_timeout)")),
                ]))])),
            ("/api/v1/query/explain", .o([("get", .op("explainQuery", "query", "The plan a query would run", params: queryParams, responses: [
                ("200", .json(.ref("QueryPlan"), "The plan")), ("400", .error("Bad parameter or matcher")),
                ("422", .error("Query over a limit")), ("503", .error("The database is closed, or the query ran past --query-timeout (code query_timeout)")),
            ]))])),
            ("/telemetry", .o([("post", .op("postTelemetry", "write", "Write one JSON sample or an array (or NDJSON)",
                body: .o([("required", .b(true)), ("content", .o([
                    ("application/json", .o([("schema", .o([("oneOf", .a([.ref("SampleInput"), .array(.ref("SampleInput"))]))]))])),
                    ("application/x-ndjson", .o([("schema", .string)])),
                ]))]), responses: writeResponses))])),
            ("/api/v1/write", .o([("post", .op("write", "write", "Bulk write: DCGM CSV, NDJSON, JSON or InfluxDB line protocol",
                params: [.param("precision", "query", .stringEnum(["ns", "n", "us", "u", "ms", "s", "m", "h"]), "Line protocol timestamp precision (default ns)")],
                body: .o([("required", .b(true)), ("content", .o([
                    ("text/csv", .o([("schema", .string)])), ("application/x-ndjson", .o([("schema", .string)])),
                    ("text/plain", .o([("schema", .string)])),
                    ("application/json", .o([("schema", .o([("oneOf", .a([.ref("SampleInput"), .array(.ref("SampleInput"))]))]))])),
                    ("application/x-protobuf", .o([("schema", .o([("type", .s("string")), ("format", .s("binary"))]))])),
                ]))]), responses: writeResponses))])),
            ("/prometheus/api/v1/write", .o([("post", remoteWrite("prometheusRemoteWrite", "Prometheus remote_write 1.0"))])),
            ("/api/v1/push", .o([("post", remoteWrite("remoteWritePush", "Prometheus remote_write 1.0 (the path Mimir and Loki use)"))])),
            ("/write", .o([("post", influxWrite("influxV1Write", "InfluxDB v1 write (line protocol)", v1: true))])),
            ("/query", .o([("get", influxQuery("influxQuery")), ("post", influxQuery("influxQueryPost"))])),
            ("/api/v2/write", .o([("post", influxWrite("influxV2Write", "InfluxDB v2 write (line protocol)", v1: false))])),
            ("/internal/v1/write", .o([("post", .op("internalWrite", "write", "Collector write (DCGM CSV), with the service token",
                body: .o([("required", .b(true)), ("content", .o([("text/csv", .o([("schema", .string)]))]))]),
                responses: writeResponses + [("401", .error("Missing or invalid service token"))], secured: false,
                security: .a([.o([("ServiceToken", .a([]))])])))])),
        ] + GrafanaOpenAPI.paths + PrometheusOpenAPI.paths)
    }

    static var queryParams: [OA] {
        [
            .param("metric", "query", .string, "Metric name (__name__)"),
            .param("match[]", "query", .array(.string), "Label matcher: name=\"v\", name!=\"v\", name=~\"re\", name!~\"re\", or {a=\"x\",b=~\"y\"}; repeatable", explode: true),
        ] + windowParams + aggParams + [
            .param("group_by", "query", .array(.string), "Aggregate series with equal values of these labels; repeatable or comma-separated", explode: true),
            .param("limit", "query", .intRange(1, 1_000_000), "Most series in the result; more is a 422"),
        ]
    }

    static func influxWrite(_ id: String, _ summary: String, v1: Bool) -> OA {
        let schema = v1 ? "InfluxV1Error" : "InfluxV2Error"
        let error = { (description: String) -> OA in .json(.ref(schema), description) }
        return .op(id, "write", summary,
            v1 ? "InfluxDB 1.x semantics: the good lines of a body are stored and a 400 `partial write: …` names the bad ones "
                + "(X-Samples-Written says how many points were stored). Accepts Authorization: Token <key>, HTTP Basic with the key "
                + "as password and `?p=<key>`, besides Bearer and X-API-Key. gzip/deflate bodies; the body limit applies decompressed."
               : "InfluxDB 2.x semantics: one bad line refuses the batch. Accepts Authorization: Token <key> and Basic, besides Bearer "
                + "and X-API-Key. gzip/deflate bodies; the body limit applies decompressed.",
            params: [
                .param("precision", "query", .stringEnum(["ns", "n", "us", "u", "ms", "s", "m", "h"]), "Timestamp precision (default ns)"),
                .param("db", "query", .string, "Ignored (one database)"), .param("bucket", "query", .string, "Ignored"),
                .param("org", "query", .string, "Ignored"),
            ],
            body: .o([("required", .b(true)), ("content", .o([("text/plain", .o([("schema", .string)]))]))]),
            responses: [
                writeResponses[0],
                ("400", error(v1 ? "Bad lines (partial write: the good ones were stored)" : "A bad line; nothing was stored")),
                ("401", error("Missing or invalid key")), ("413", error("Body larger than --max-body-bytes (decompressed)")),
                ("415", error("Unsupported Content-Encoding")),
                ("429", .json(.ref(schema), "Rate limited; retry after Retry-After seconds", headers: [("Retry-After", .header("Seconds to wait"))])),
            ])
    }

    static func influxQuery(_ id: String) -> OA {
        .op(id, "write", "InfluxDB 1.x /query, for CREATE DATABASE (a no-op answered as InfluxDB does)",
            "Telegraf and the influxdb client libraries create their database before writing. Other statements get 400.",
            params: [.param("q", "query", .string, "InfluxQL: CREATE DATABASE <name>")],
            responses: [
                ("200", .json(.ref("InfluxQueryResult"), "One empty result per statement")),
                ("400", .json(.ref("InfluxV1Error"), "Not a CREATE DATABASE statement")),
                ("401", .json(.ref("InfluxV1Error"), "Missing or invalid key")),
                ("429", .json(.ref("InfluxV1Error"), "Rate limited; retry after Retry-After seconds", headers: [("Retry-After", .header("Seconds to wait"))])),
            ])
    }

    static func remoteWrite(_ id: String, _ summary: String) -> OA {
        .op(id, "write", summary,
            "A snappy block-compressed prometheus.WriteRequest (Content-Encoding: snappy). Metadata-only requests answer 204; 413 when the declared uncompressed size is over max_body_bytes. Accepts HTTP Basic with the key as the password, besides Bearer and X-API-Key.",
            body: .o([("required", .b(true)), ("content", .o([
                ("application/x-protobuf", .o([("schema", .o([("type", .s("string")), ("format", .s("binary"))]))])),
            ]))]),
            responses: writeResponses)
    }

    static var document: OA {
        .o([
            ("openapi", .s("3.0.3")),
            ("info", .o([
                ("title", .s("GPU telemetry API")),
                ("version", .s("1.0.0")),
                ("description", .s("REST range queries over the GPU telemetry TSDB, InfluxDB-compatible writes and a Grafana JSON datasource. Errors are {\"error\": {\"code\", \"message\"}}.")),
            ])),
            ("servers", .a([.o([("url", .s("/"))])])),
            ("security", .a([.o([("ApiKeyHeader", .a([]))]), .o([("BearerAuth", .a([]))])])),
            ("paths", paths),
            ("components", .o([
                ("schemas", OpenAPISchemas.all),
                ("securitySchemes", .o([
                    ("ApiKeyHeader", .o([("type", .s("apiKey")), ("in", .s("header")), ("name", .s("X-API-Key"))])),
                    ("BearerAuth", .o([("type", .s("http")), ("scheme", .s("bearer"))])),
                    ("ServiceToken", .o([("type", .s("http")), ("scheme", .s("bearer")), ("description", .s("SERVICE_TOKEN of the collector"))])),
                ])),
            ])),
        ])
    }
}

/// The Grafana JSON datasource part of the document.
enum GrafanaOpenAPI {
    static let body: OA = .o([("content", .o([("application/json", .o([("schema", .o([("type", .s("object"))]))]))]))])
    static let bad: (String, OA) = ("400", .error("The body is not a JSON object or misses a field"))

    static var paths: [(String, OA)] {
        [
            ("/grafana/", .o([("get", .op("grafanaTest", "grafana", "Datasource test connection", responses: [("200", .json(.ref("Status"), "OK"))]))])),
            ("/grafana/metrics", .o([("post", .op("grafanaMetrics", "grafana", "Metric names with their payload options", body: body, responses: [
                ("200", .json(.array(.ref("GrafanaMetric")), "Metrics")), bad,
            ]))])),
            ("/grafana/metric-payload-options", .o([("post", .op("grafanaPayloadOptions", "grafana", "Options of one payload field",
                body: OpenAPIDocument.jsonRequest(.object([("metric", .string), ("name", .nonEmpty), ("payload", .o([("type", .s("object"))]))], required: ["name"])),
                responses: [("200", .json(.array(.ref("GrafanaOption")), "Options")), bad]))])),
            ("/grafana/query", .o([("post", .op("grafanaQuery", "grafana", "Time series or table data for panel targets",
                "The step is max(intervalMs, (to - from) / maxDataPoints); filters and adhocFilters become label matchers.",
                body: OpenAPIDocument.jsonRequest(.ref("GrafanaQueryRequest")),
                responses: [
                    ("200", .json(.array(.o([("anyOf", .a([.ref("GrafanaTimeSeries"), .ref("GrafanaTable")]))])), "One entry per series")),
                    bad, ("422", .error("Query over a limit")), ("503", .error("The database is closed, or the query ran past --query-timeout (code query_timeout)")),
                ]))])),
            ("/grafana/variable", .o([("post", .op("grafanaVariable", "grafana", "Values of a dashboard variable",
                "payload.target is hosts, gpus, namespaces, metrics, label_names or label_values(NAME).",
                body: OpenAPIDocument.jsonRequest(.object([("payload", .object([("target", .o([("anyOf", .a([
                    .stringEnum(["hosts", "hostname", "gpus", "uuid", "namespaces", "metrics", "label_names"]),
                    .o([("type", .s("string")), ("pattern", .s("^label_values\\([A-Za-z_][A-Za-z0-9_]*\\)$"))]),
                ]))]))]))])),
                responses: [("200", .json(.array(.closed([("__text", .string), ("__value", .string)])), "Values")), bad]))])),
            ("/grafana/tag-keys", .o([("post", .op("grafanaTagKeys", "grafana", "Label names for ad hoc filters", body: body, responses: [
                ("200", .json(.array(.closed([("type", .string), ("text", .string)])), "Label names")), bad,
            ]))])),
            ("/grafana/tag-values", .o([("post", .op("grafanaTagValues", "grafana", "Values of one label",
                body: OpenAPIDocument.jsonRequest(.object([("key", .nonEmpty)])),
                responses: [("200", .json(.array(.closed([("text", .string)])), "Label values")), bad]))])),
            ("/grafana/search", .o([("post", .op("grafanaSearch", "grafana", "Metric names containing target (simple-json)", body: body, responses: [
                ("200", .json(.array(.string), "Metric names")), bad,
            ]))])),
            ("/grafana/annotations", .o([("post", .op("grafanaAnnotations", "grafana", "Annotations (none are stored)", body: body, responses: [
                ("200", .json(.array(.o([("type", .s("object"))])), "Annotations")), bad,
            ]))])),
        ]
    }
}
