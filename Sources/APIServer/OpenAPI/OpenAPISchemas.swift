import TSDB

/// The component schemas: every response body the API sends, exactly.
enum OpenAPISchemas {
    static func page(_ field: String, _ item: String, extra: [(String, OA)] = []) -> OA {
        .closed(extra + [
            ("count", .o([("type", .s("integer")), ("minimum", .i(0)), ("description", .s("Items on this page"))])),
            ("total", .o([("type", .s("integer")), ("minimum", .i(0)), ("description", .s("Items matching the filters, all pages"))])),
            (field, .array(.ref(item))),
            ("next_cursor", .o([("type", .s("string")), ("nullable", .b(true)), ("description", .s("Pass as cursor for the next page; null on the last page"))])),
        ])
    }

    static let stringMap: OA = .o([("type", .s("object")), ("additionalProperties", .string)])

    static var all: OA {
        .o([
            ("Error", .closed([("error", .closed([("code", .string), ("message", .string)]))])),
            ("InfluxV1Error", .closed([("error", .string)])),
            ("InfluxV2Error", .closed([("code", .string), ("message", .string)])),
            ("InfluxQueryResult", .closed([("results", .array(.closed([("statement_id", .integer)])))])),
            ("Status", .closed([("status", .string)])),
            ("GPU", .closed([
                ("uuid", .string), ("gpu_id", .nullableString), ("device", .nullableString), ("model_name", .nullableString),
                ("hostname", .nullableString), ("namespaces", .array(.string)), ("pods", .array(.string)),
                ("mig_instances", .array(.closed([("gpu_instance_id", .string), ("profile", .nullableString)]))),
                ("first_seen", .nullableDateTime), ("last_seen", .nullableDateTime), ("series_count", .integer),
            ])),
            ("GPUList", page("gpus", "GPU")),
            ("HostGPUList", page("gpus", "GPU", extra: [("hostname", .string)])),
            ("Host", .closed([("hostname", .string), ("gpu_count", .integer), ("series_count", .integer)])),
            ("HostList", page("hosts", "Host")),
            ("Namespace", .closed([("namespace", .string), ("gpu_count", .integer), ("series_count", .integer)])),
            ("NamespaceList", page("namespaces", "Namespace")),
            ("Metric", .closed([("name", .string), ("series_count", .integer)])),
            ("MetricList", page("metrics", "Metric")),
            ("TelemetrySample", .closed([
                ("timestamp", .dateTime), ("metric", .string), ("value", .nullableNumber),
                ("hostname", .string), ("gpu_id", .string), ("device", .string), ("model_name", .string),
                ("container", .string), ("pod", .string), ("namespace", .string),
            ], required: ["timestamp", "metric", "value"])),
            ("TelemetryPage", .closed([
                ("uuid", .string), ("count", .integer), ("data", .array(.ref("TelemetrySample"))), ("next_cursor", .nullableString),
            ])),
            ("QueryStats", .closed([
                ("series_matched", .integer), ("series_returned", .integer), ("blocks_touched", .integer),
                ("chunks_total", .integer), ("chunks_summarized", .integer), ("chunks_decoded", .integer),
                ("chunks_pruned", .integer), ("samples_scanned", .integer), ("samples_returned", .integer), ("duration_ns", .integer),
            ])),
            ("Series", .closed([
                ("metric", .nullableString),
                ("labels", stringMap),
                ("timestamps", .array(.o([("anyOf", .a([.integer, .number, .dateTime]))]))),
                ("values", .array(.nullableNumber)),
            ])),
            ("QueryResult", .closed([("count", .integer), ("series", .array(.ref("Series"))), ("stats", .ref("QueryStats"))])),
            ("QueryPlan", .closed([
                ("steps", .array(.string)), ("series_matched", .integer), ("blocks", .array(.string)),
                ("chunks_total", .integer), ("chunks_summarizable", .integer), ("chunks_to_decode", .integer),
                ("chunks_pruned", .integer), ("head_series", .integer), ("estimated_samples", .integer),
                ("series_returned", .integer), ("estimated_result_bytes", .integer),
                ("aggregation", .nullableString), ("step_ns", .o([("type", .s("integer")), ("nullable", .b(true))])),
                ("group_by", .o([("type", .s("array")), ("items", .string), ("nullable", .b(true))])),
            ])),
            ("SampleInput", .object([
                ("metric", .nonEmpty), ("value", .o([("anyOf", .a([.number, .o([("type", .s("string")), ("pattern", .s("^[-+]?[0-9]+(\\.[0-9]+)?$"))])]))])),
                ("time", .o([("anyOf", .a([.string, .number])), ("description", .s("RFC 3339 or epoch (s/ms/µs/ns by magnitude); absent means now"))])),
                ("gpu_id", .string), ("uuid", .string), ("device_id", .string), ("model_name", .string), ("hostname", .string),
                ("container", .string), ("pod", .string), ("namespace", .string), ("labels_raw", .string),
                ("labels", stringMap),
            ], required: ["metric", "value"])),
            ("GrafanaMetric", .closed([
                ("label", .string), ("value", .string),
                ("payloads", .array(.closed([("label", .string), ("name", .string), ("type", .stringEnum(["select", "multi-select", "input", "textarea"]))]))),
            ])),
            ("GrafanaOption", .closed([("label", .string), ("value", .string)])),
            ("GrafanaTimeSeries", .closed([
                ("target", .string),
                ("datapoints", .array(.array(.o([("anyOf", .a([.nullableNumber, .integer]))]), min: 2, max: 2))),
            ])),
            ("GrafanaTable", .closed([
                ("type", .stringEnum(["table"])),
                ("columns", .array(.closed([("text", .string), ("type", .stringEnum(["time", "string", "number"]))]))),
                ("rows", .array(.array(.o([("anyOf", .a([.nullableNumber, .string]))])))),
            ])),
            ("GrafanaRange", .object([("from", .dateTime), ("to", .dateTime)], required: ["from", "to"])),
            ("GrafanaFilter", .object([("key", .string), ("operator", .stringEnum(LabelMatcher.Operator.allCases.map(\.rawValue))), ("value", .string)])),
            ("GrafanaQueryRequest", .object([
                ("range", .ref("GrafanaRange")),
                ("intervalMs", .o([("type", .s("number")), ("minimum", .i(0))])),
                ("maxDataPoints", .o([("type", .s("number")), ("minimum", .i(1))])),
                ("targets", .array(.object([
                    ("target", .string), ("refId", .string), ("type", .stringEnum(["timeserie", "timeseries", "table"])),
                    ("hide", .boolean),
                    ("payload", .object([
                        ("hostname", .o([("anyOf", .a([.string, .array(.string)]))])),
                        ("uuid", .o([("anyOf", .a([.string, .array(.string)]))])),
                        ("namespace", .o([("anyOf", .a([.string, .array(.string)]))])),
                        ("agg", .stringEnum(Aggregation.allCases.map(\.rawValue))),
                        ("group_by", .array(.string)),
                        ("format", .stringEnum(["time_series", "table"])),
                    ], required: [])),
                ], required: ["target"]))),
                ("filters", .array(.ref("GrafanaFilter"))),
                ("adhocFilters", .array(.ref("GrafanaFilter"))),
            ], required: ["range"])),
        ])
    }
}
