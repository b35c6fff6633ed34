/// A JSON tree for building the OpenAPI document in Swift, serialised with ``JSONWriter``.
indirect enum OA: Sendable {
    case s(String), i(Int), b(Bool), a([OA]), o([(String, OA)])

    func write(_ w: inout JSONWriter) {
        switch self {
        case .s(let v): w.string(v)
        case .i(let v): w.int(v)
        case .b(let v): w.bool(v)
        case .a(let items): w.beginArray(); for item in items { item.write(&w) }; w.endArray()
        case .o(let fields): w.beginObject(); for (k, v) in fields { w.key(k); v.write(&w) }; w.endObject()
        }
    }

    // MARK: schema helpers

    static func ref(_ name: String) -> OA { .o([("$ref", .s("#/components/schemas/\(name)"))]) }
    static let string: OA = .o([("type", .s("string"))])
    static let nonEmpty: OA = .o([("type", .s("string")), ("minLength", .i(1))])
    static let nullableString: OA = .o([("type", .s("string")), ("nullable", .b(true))])
    static let dateTime: OA = .o([("type", .s("string")), ("format", .s("date-time"))])
    static let nullableDateTime: OA = .o([("type", .s("string")), ("format", .s("date-time")), ("nullable", .b(true))])
    static let integer: OA = .o([("type", .s("integer"))])
    static let number: OA = .o([("type", .s("number"))])
    static let nullableNumber: OA = .o([("type", .s("number")), ("nullable", .b(true))])
    static let boolean: OA = .o([("type", .s("boolean"))])

    static func array(_ items: OA, min: Int? = nil, max: Int? = nil) -> OA {
        var f: [(String, OA)] = [("type", .s("array")), ("items", items)]
        if let min { f.append(("minItems", .i(min))) }
        if let max { f.append(("maxItems", .i(max))) }
        return .o(f)
    }

    static func object(_ props: [(String, OA)], required: [String]? = nil, additional: OA? = nil) -> OA {
        var f: [(String, OA)] = [("type", .s("object")), ("properties", .o(props))]
        let req = required ?? props.map(\.0)
        if !req.isEmpty { f.append(("required", .a(req.map { .s($0) }))) }
        if let additional { f.append(("additionalProperties", additional)) }
        return .o(f)
    }

    /// A response object: exactly these properties, nothing more.
    static func closed(_ props: [(String, OA)], required: [String]? = nil) -> OA {
        object(props, required: required, additional: .b(false))
    }

    static func stringEnum(_ values: [String]) -> OA { .o([("type", .s("string")), ("enum", .a(values.map { .s($0) }))]) }

    static func intRange(_ min: Int, _ max: Int) -> OA {
        .o([("type", .s("integer")), ("minimum", .i(min)), ("maximum", .i(max))])
    }

    // MARK: operation helpers

    static func param(_ name: String, _ location: String = "query", _ schema: OA, _ description: String, required: Bool = false, explode: Bool? = nil) -> OA {
        var f: [(String, OA)] = [("name", .s(name)), ("in", .s(location)), ("description", .s(description)),
                                 ("required", .b(required || location == "path")), ("schema", schema)]
        if let explode { f.append(("style", .s("form"))); f.append(("explode", .b(explode))) }
        return .o(f)
    }

    static func json(_ schema: OA, _ description: String, headers: [(String, OA)] = []) -> OA {
        var f: [(String, OA)] = [("description", .s(description)), ("content", .o([("application/json", .o([("schema", schema)]))]))]
        if !headers.isEmpty { f.append(("headers", .o(headers))) }
        return .o(f)
    }

    static func content(_ type: String, _ schema: OA, _ description: String) -> OA {
        .o([("description", .s(description)), ("content", .o([(type, .o([("schema", schema)]))]))])
    }

    static func error(_ description: String, headers: [(String, OA)] = []) -> OA { json(ref("Error"), description, headers: headers) }

    static func header(_ description: String, _ schema: OA = .integer) -> OA {
        .o([("description", .s(description)), ("schema", schema)])
    }

    static func op(
        _ id: String, _ tag: String, _ summary: String, _ description: String = "",
        params: [OA] = [], body: OA? = nil, responses: [(String, OA)], secured: Bool = true, security: OA? = nil
    ) -> OA {
        var f: [(String, OA)] = [("operationId", .s(id)), ("tags", .a([.s(tag)])), ("summary", .s(summary))]
        if !description.isEmpty { f.append(("description", .s(description))) }
        if !params.isEmpty { f.append(("parameters", .a(params))) }
        if let body { f.append(("requestBody", body)) }
        var all = responses
        // Routes that answer in another error shape (InfluxDB's) list their own 401 and 429.
        if secured && !all.contains(where: { $0.0 == "401" }) {
            all.append(("401", error("Missing or invalid credentials (X-API-Key or Authorization: Bearer)")))
        }
        if secured && !all.contains(where: { $0.0 == "429" }) {
            all.append(("429", error("Rate limited; retry after Retry-After seconds", headers: [("Retry-After", header("Seconds to wait"))])))
        }
        f.append(("responses", .o(all)))
        if let security { f.append(("security", security)) } else if !secured { f.append(("security", .a([]))) }
        return .o(f)
    }
}
