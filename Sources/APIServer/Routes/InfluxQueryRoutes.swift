import Hummingbird

extension APIHandlers {
    /// InfluxDB 1.x's `/query`, for the statements clients send before they write: Telegraf's
    /// `CREATE DATABASE "telegraf"` at start, and the `influxdb` Python client's
    /// `create_database()`. This server has one store and no databases, so these succeed
    /// with InfluxDB's empty result; anything else is refused with a pointer to the query APIs.
    func addInfluxQueryRoutes(to router: Router<APIRequestContext>) {
        let handler: @Sendable (Request, APIRequestContext) async throws -> Response = { request, _ in
            var q = try QueryParameters(request.uri).string("q")
            if q == nil, request.method == .post {
                let body = try await BodyReader.read(request, limit: 1 << 20)
                q = try QueryParameters.form(body).string("q")
            }
            guard let text = q, !text.isEmpty else { throw APIError.badRequest("missing required parameter \"q\"") }
            let statements = Self.influxStatements(text)
            var w = JSONWriter()
            w.beginObject(); w.key("results"); w.beginArray()
            for (i, statement) in statements.enumerated() {
                guard Self.isCreateDatabase(statement) else {
                    throw APIError.badRequest("only CREATE DATABASE is answered on /query (it is a no-op here); "
                        + "read data with /api/v1/query, /prometheus/api/v1/query or the Grafana datasource, not \"\(statement.prefix(80))\"")
                }
                w.beginObject(); w.key("statement_id"); w.int(i); w.endObject()
            }
            w.endArray(); w.endObject()
            return w.response()
        }
        router.get("query", use: handler)
        router.post("query", use: handler)
    }

    /// Statements separated by `;`, outside quotes.
    static func influxStatements(_ text: String) -> [Substring] {
        var out: [Substring] = []
        var start = text.startIndex
        var quote: Character?
        var i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            if let q = quote { if c == q { quote = nil } } else if c == "\"" || c == "'" { quote = c } else if c == ";" {
                out.append(text[start..<i]); start = text.index(after: i)
            }
            i = text.index(after: i)
        }
        out.append(text[start...])
        return out.map { $0.trimmingPrefix(while: \.isWhitespace) }.map { s in s[..<(s.lastIndex { !$0.isWhitespace }.map { s.index(after: $0) } ?? s.startIndex)] }
            .filter { !$0.isEmpty }
    }

    static func isCreateDatabase(_ statement: Substring) -> Bool {
        let words = statement.split(whereSeparator: \.isWhitespace).prefix(2).map { $0.uppercased() }
        return words == ["CREATE", "DATABASE"] && statement.split(whereSeparator: \.isWhitespace).count >= 3
    }
}
