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
            let now = Self.nowNanos()
            let samples: [LabeledSample]
            do {
                switch BodyReader.mediaType(request) {
                case "application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines":
                    samples = try JSONSamples.decodeNDJSON(body, now: now)
                case nil, "application/json", "text/json":
                    samples = try JSONSamples.decode(body, now: now)
                case let other?:
                    throw APIError.unsupportedMediaType("POST /telemetry takes application/json or application/x-ndjson, not \(other)")
                }
            } catch let e as JSONSampleError {
                throw APIError.badRequest(e.description)
            }
            return try await store(samples)
        }
        router.post("api/v1/write") { request, _ -> Response in
            let body = try await BodyReader.read(request, limit: config.maxBodyBytes)
            let q = try QueryParameters(request.uri)
            let samples: [LabeledSample]
            switch BodyReader.mediaType(request) {
            case "text/csv", "application/csv":
                samples = try decodeCSV(body)
            case "application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines":
                do { samples = try JSONSamples.decodeNDJSON(body, now: Self.nowNanos()) } catch { throw APIError.badRequest("\(error)") }
            case "application/json", "text/json":
                do { samples = try JSONSamples.decode(body, now: Self.nowNanos()) } catch { throw APIError.badRequest("\(error)") }
            case nil, "text/plain", "application/octet-stream", "text/x-influxdb-line-protocol":
                samples = try decodeLineProtocol(body, q)
            case let other?:
                throw APIError.unsupportedMediaType("POST /api/v1/write takes text/csv (DCGM), application/x-ndjson, application/json or text/plain (line protocol), not \(other)")
            }
            return try await store(samples)
        }
        // InfluxDB 1.x keeps the good lines of a body and answers 400 "partial write" naming
        // the bad ones (Telegraf then drops the batch, which is right: the good part is stored).
        router.post("write") { request, _ -> Response in
            let body = try await BodyReader.read(request, limit: config.maxBodyBytes)
            let parsed = try parseLineProtocol(body, try QueryParameters(request.uri), badLines: .skip)
            guard !parsed.badLines.isEmpty else { return try await store(parsed.samples) }
            let reasons = parsed.badLines.prefix(10).map(\.description).joined(separator: "; ")
            let more = parsed.badLines.count > 10 ? "; and \(parsed.badLines.count - 10) more bad lines" : ""
            guard !parsed.samples.isEmpty else {
                throw APIError.badRequest("unable to parse: \(reasons)\(more); nothing was stored")
            }
            let result = try await db.append(parsed.samples)
            metrics.samplesWritten.increment(by: Int64(result.appended))
            var error = APIError.badRequest("partial write: \(reasons)\(more); \(result.appended) points stored, dropped=\(parsed.badLines.count)")
            error.headers[.samplesWritten] = String(result.appended)
            error.headers[.samplesRejected] = String(result.outOfWindow)
            throw error
        }
        // InfluxDB 2.x refuses the whole batch when a line is bad.
        router.post("api/v2/write") { request, _ -> Response in
            let body = try await BodyReader.read(request, limit: config.maxBodyBytes)
            return try await store(try decodeLineProtocol(body, try QueryParameters(request.uri)))
        }
        router.post("internal/v1/write") { request, _ -> Response in
            let body = try await BodyReader.read(request, limit: config.maxBodyBytes)
            switch BodyReader.mediaType(request) {
            case nil, "text/csv", "application/csv": break
            case let other?: throw APIError.unsupportedMediaType("POST /internal/v1/write takes text/csv (DCGM), not \(other)")
            }
            let written: Int
            do {
                written = try await csvSink.write(documents: [body])
            } catch let e as SinkError {
                switch e {
                case .malformed(_, let reason): throw APIError.badRequest(reason)
                case .storage(let m): throw APIError.internal(m)
                default: throw APIError.internal(e.description)
                }
            }
            guard written > 0 else { throw APIError.badRequest("the body holds no samples") }
            metrics.samplesWritten.increment(by: Int64(written))
            return Response(status: .noContent, headers: [.samplesWritten: String(written)])
        }
    }

    static func nowNanos() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1e9).rounded())
    }

    func decodeLineProtocol(_ body: [UInt8], _ q: QueryParameters) throws(APIError) -> [LabeledSample] {
        try parseLineProtocol(body, q, badLines: .refuse).samples
    }

    func parseLineProtocol(_ body: [UInt8], _ q: QueryParameters, badLines: LineProtocolParser.BadLines) throws(APIError) -> LineProtocolResult {
        let precisionText = q.string("precision") ?? "ns"
        guard let precision = LineProtocolPrecision(influx: precisionText) else {
            throw .badRequest("precision \"\(precisionText)\" is not one of ns, us, ms, s, m, h (or n, u)")
        }
        do {
            return try LineProtocolParser.parse(body, precision: precision, now: Self.nowNanos(), badLines: badLines)
        } catch {
            throw .badRequest(error.description)
        }
    }

    func decodeCSV(_ body: [UInt8]) throws(APIError) -> [LabeledSample] {
        do {
            let (records, _) = try DCGMCSVParser.parse(body, strict: true)
            return records.map { LabeledSample(labels: $0.labels, timestamp: $0.timestamp, value: $0.value) }
        } catch {
            throw .badRequest("DCGM CSV: \(error)")
        }
    }

    /// Appends and answers 204 once durable; how many samples were stored and how many fell
    /// outside the out-of-order window are in `X-Samples-Written` / `X-Samples-Rejected`.
    func store(_ samples: [LabeledSample]) async throws -> Response {
        guard !samples.isEmpty else {
            throw APIError.badRequest("the body holds no samples")
        }
        let result = try await db.append(samples)
        metrics.samplesWritten.increment(by: Int64(result.appended))
        return Response(status: .noContent, headers: [
            .samplesWritten: String(result.appended),
            .samplesRejected: String(result.outOfWindow),
        ])
    }
}

extension HTTPField.Name {
    static let samplesWritten = HTTPField.Name("X-Samples-Written")!
    static let samplesRejected = HTTPField.Name("X-Samples-Rejected")!
}
