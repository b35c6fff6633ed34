import HTTPTypes
import Foundation
import Hummingbird
import Ingest
import TSDB

extension APIHandlers {
    /// `POST /telemetry` (JSON), `POST /api/v1/write` (CSV, NDJSON, JSON or line protocol),
    /// InfluxDB's `POST /write` and `POST /api/v2/write` (line protocol), and the collector's
    /// `POST /internal/v1/write` (DCGM CSV). Each answers 204 only once `db.append` returned,
    /// that is once the samples are durable under the fsync policy.
    func addWriteRoutes(to router: Router<APIRequestContext>) {
        router.post("telemetry") { request, _ -> Response in
            let body = try await BodyReader.read(request, limit: config.maxBodyBytes)
            switch BodyReader.mediaType(request) {
            case "application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines":
                return try await storeJSON(body, ndjson: true)
            case nil, "application/json", "text/json":
                return try await storeJSON(body, ndjson: false)
            case let other?:
                throw APIError.unsupportedMediaType("POST /telemetry takes application/json or application/x-ndjson, not \(other)")
            }
        }
        router.post("api/v1/write") { request, _ -> Response in
            // Prometheus remote_write to the path VictoriaMetrics serves it on.
            if BodyReader.mediaType(request) == "application/x-protobuf" {
                return try await remoteWrite(request)
            }
            let body = try await BodyReader.read(request, limit: config.maxBodyBytes)
            let q = try QueryParameters(request.uri)
            switch BodyReader.mediaType(request) {
            case "text/csv", "application/csv":
                return try await storeCSV(body)
            case "application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines":
                return try await storeJSON(body, ndjson: true)
            case "application/json", "text/json":
                return try await storeJSON(body, ndjson: false)
            case nil, "text/plain", "application/octet-stream", "text/x-influxdb-line-protocol":
                return try answer(try await storeLineProtocol(body, q, badLines: .refuse).stored)
            case let other?:
                throw APIError.unsupportedMediaType("POST /api/v1/write takes text/csv (DCGM), application/x-ndjson, application/json, text/plain (line protocol) or application/x-protobuf (Prometheus remote_write), not \(other)")
            }
        }
        // InfluxDB 1.x keeps the good lines of a body and answers 400 "partial write" naming
        // the bad ones (Telegraf then drops the batch, which is right: the good part is stored).
        router.post("write") { request, _ -> Response in
            let body = try await BodyReader.read(request, limit: config.maxBodyBytes)
            let (parsed, stored) = try await storeLineProtocol(body, try QueryParameters(request.uri), badLines: .skip)
            guard !parsed.badLines.isEmpty else { return try answer(stored) }
            let reasons = parsed.badLines.prefix(10).map(\.description).joined(separator: "; ")
            let more = parsed.badLines.count > 10 ? "; and \(parsed.badLines.count - 10) more bad lines" : ""
            guard let result = stored else {
                throw APIError.badRequest("unable to parse: \(reasons)\(more); nothing was stored")
            }
            var message = "partial write: \(reasons)\(more); \(result.appended) points stored, dropped=\(parsed.badLines.count + result.refused)"
            if let why = result.futureRefusal(maxFuture: db.options.maxFuture) { message += "; \(why)" }
            var error = APIError.badRequest(message)
            error.headers[.samplesWritten] = String(result.appended)
            error.headers[.samplesRejected] = String(result.refused)
            throw error
        }
        // InfluxDB 2.x refuses the whole batch when a line is bad.
        router.post("api/v2/write") { request, _ -> Response in
            let body = try await BodyReader.read(request, limit: config.maxBodyBytes)
            return try answer(try await storeLineProtocol(body, try QueryParameters(request.uri), badLines: .refuse).stored)
        }
        router.post("internal/v1/write") { request, _ -> Response in
            let body = try await BodyReader.read(request, limit: config.maxBodyBytes)
            switch BodyReader.mediaType(request) {
            case nil, "text/csv", "application/csv": break
            case let other?: throw APIError.unsupportedMediaType("POST /internal/v1/write takes text/csv (DCGM), not \(other)")
            }
            let result: AppendResult
            do {
                result = try await csvSink.append(documents: [body])
            } catch let e as SinkError {
                switch e {
                case .malformed(_, let reason): throw APIError.badRequest(reason)
                case .rejected, .retryable: throw APIError.seriesRefused(e)
                case .storage(let m): throw APIError.internal(m)
                }
            }
            let written = result.appended
            guard written > 0 || result.refused > 0 else { throw APIError.badRequest("the body holds no samples") }
            metrics.samplesWritten.increment(by: Int64(written))
            // The collector's path: refused samples can never be stored, so this answers 204
            // (the collector acks) and says what was refused in headers, not with a 400 that
            // would dead-letter a document whose other rows are stored.
            var headers: HTTPFields = [.samplesWritten: String(written), .samplesRejected: String(result.refused)]
            if let why = result.futureRefusal(maxFuture: db.options.maxFuture) { headers[.samplesRejectedReason] = why }
            return Response(status: .noContent, headers: headers)
        }
    }

    static func nowNanos() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1e9).rounded())
    }

    func lineProtocolPrecision(_ q: QueryParameters) throws(APIError) -> LineProtocolPrecision {
        let precisionText = q.string("precision") ?? "ns"
        guard let precision = LineProtocolPrecision(influx: precisionText) else {
            throw .badRequest("precision \"\(precisionText)\" is not one of ns, us, ms, s, m, h (or n, u)")
        }
        return precision
    }

    /// Line protocol parsed in place into one batch (``LineProtocolBatchBuilder``) and
    /// appended once: one catalog call for the new series, one WAL record, durable on
    /// return. `stored` is nil when no line held a point (nothing was appended).
    func storeLineProtocol(_ body: [UInt8], _ q: QueryParameters, badLines: LineProtocolParser.BadLines) async throws
        -> (parsed: LineProtocolBatchBuilder.Parsed, stored: AppendResult?) {
        let precision = try lineProtocolPrecision(q)
        let now = Self.nowNanos()
        func parse() throws(APIError) -> LineProtocolBatchBuilder.Parsed {
            do { return try lineProtocol.parse(body, precision: precision, now: now, badLines: badLines) } catch { throw .badRequest(error.description) }
        }
        var parsed = try parse()
        guard !parsed.batch.isEmpty else { return (parsed, nil) }
        let result = try await lineProtocol.append(&parsed, to: db, reparse: parse)
        metrics.samplesWritten.increment(by: Int64(result.appended))
        return (parsed, result)
    }

    /// The reply to a stored write; nil (nothing in the body) is 400.
    func answer(_ stored: AppendResult?) throws -> Response {
        guard let result = stored else { throw APIError.badRequest("the body holds no samples") }
        let headers: HTTPFields = [.samplesWritten: String(result.appended), .samplesRejected: String(result.refused)]
        if let why = result.futureRefusal(maxFuture: db.options.maxFuture) {
            throw APIError(.badRequest, code: "timestamp_too_far_in_future", message: why, headers: headers)
        }
        return Response(status: .noContent, headers: headers)
    }

    /// DCGM CSV through the collector's write path (``TSDBSink``); answers like ``answer(_:)``.
    func storeCSV(_ body: [UInt8]) async throws -> Response {
        let result: AppendResult
        do {
            result = try await csvSink.append(documents: [body])
        } catch let e as SinkError {
            switch e {
            case .malformed(_, let reason): throw APIError.badRequest("DCGM CSV: \(reason)")
            case .rejected, .retryable: throw APIError.seriesRefused(e)
            case .storage(let m): throw APIError.internal(m)
            }
        }
        guard result.appended + result.outOfWindow > 0 else { throw APIError.badRequest("the body holds no samples") }
        metrics.samplesWritten.increment(by: Int64(result.appended))
        return Response(status: .noContent, headers: [
            .samplesWritten: String(result.appended),
            .samplesRejected: String(result.outOfWindow),
        ])
    }

    /// JSON samples parsed into one batch (``JSONBatchBuilder``), appended once and answered
    /// as ``answer(_:)`` does: 204 once durable, with `X-Samples-Written` / `X-Samples-Rejected`;
    /// samples more than the database's `maxFuture` ahead of its clock are refused, the rest
    /// stored (as InfluxDB's partial writes), and the answer is then 400
    /// `timestamp_too_far_in_future`, naming the limit, with the same two headers.
    func storeJSON(_ body: [UInt8], ndjson: Bool) async throws -> Response {
        let now = Self.nowNanos()
        func parse() throws(APIError) -> JSONBatchBuilder.Parsed {
            do { return try jsonSamples.parse(body, ndjson: ndjson, now: now) } catch { throw .badRequest(error.description) }
        }
        var parsed = try parse()
        guard !parsed.batch.isEmpty else { throw APIError.badRequest("the body holds no samples") }
        let result = try await jsonSamples.append(&parsed, to: db, reparse: parse)
        metrics.samplesWritten.increment(by: Int64(result.appended))
        return try answer(result)
    }
}

extension HTTPField.Name {
    static let samplesWritten = HTTPField.Name("X-Samples-Written")!
    static let samplesRejected = HTTPField.Name("X-Samples-Rejected")!
    static let samplesRejectedReason = HTTPField.Name("X-Samples-Rejected-Reason")!
}

extension APIError {
    /// A ``TSDBSink`` refusal (the engine's series limits) as the same reply the other write
    /// paths give: 429 with `Retry-After` for the per-hour budget, else 400; nothing stored.
    static func seriesRefused(_ e: SinkError) -> APIError {
        switch e {
        case .retryable(_, let after, let m):
            let seconds = after.map { max(1, Int($0.components.seconds)) } ?? 60
            return APIError(.tooManyRequests, code: "new_series_budget_exhausted", message: m,
                            headers: [.retryAfter: String(seconds), .samplesWritten: "0"])
        case .rejected(_, let m):
            return APIError(.badRequest, code: "series_limit_exceeded", message: m, headers: [.samplesWritten: "0"])
        default:
            return .internal(e.description)
        }
    }
}
