import HTTPTypes
import Hummingbird
import Ingest
import TSDB

extension APIHandlers {
    /// Prometheus remote_write 1.0 receivers: `POST /prometheus/api/v1/write` (the path
    /// VictoriaMetrics and Grafana users know), `POST /api/v1/push` (Mimir's and Loki's), and
    /// protobuf bodies to `POST /api/v1/write` (routed here by ``addWriteRoutes(to:)``).
    ///
    /// The answers follow what senders do with them: 204 once the samples are durable; 400 for
    /// a body that will never be valid (Prometheus drops the batch); 413 for one over the body
    /// limit; 415 for an encoding we do not speak (vmagent then falls back to the Prometheus
    /// protocol); 429 and 5xx only for conditions a retry can fix.
    func addRemoteWriteRoutes(to router: Router<APIRequestContext>) {
        for path in ["prometheus/api/v1/write", "api/v1/push"] {
            router.post(RouterPath(path)) { request, _ -> Response in
                switch BodyReader.mediaType(request) {
                case nil, "application/x-protobuf", "application/octet-stream": break
                case let other?:
                    throw APIError.unsupportedMediaType("POST /\(path) takes Prometheus remote_write (Content-Type: application/x-protobuf, snappy-compressed), not \(other)")
                }
                return try await remoteWrite(request)
            }
        }
    }

    /// Decodes a snappy-compressed `WriteRequest` and stores its samples through the same
    /// durable path as every other write: one batch (``RemoteWriteBatchBuilder``: known series by
    /// their label bytes, new ones resolved in one catalog call), one `db.append`.
    func remoteWrite(_ request: Request) async throws -> Response {
        let snappy: Bool
        switch request.headers[.contentEncoding].map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) {
        case nil, "snappy": snappy = true
        case "identity": snappy = false
        case let other?:
            throw APIError.unsupportedMediaType("remote_write bodies are snappy block-compressed (Content-Encoding: snappy); Content-Encoding \(other) is not supported")
        }
        let body = try await BodyReader.readRaw(request, limit: config.maxBodyBytes)
        let protobuf: [UInt8]
        if snappy {
            do throws(SnappyError) {
                protobuf = try Snappy.decompress(body, limit: config.maxBodyBytes)
            } catch {
                metrics.remoteWriteRefused.increment()
                switch error {
                case .tooLarge: throw APIError(.contentTooLarge, code: "payload_too_large", message: error.description)
                default: throw APIError.badRequest(error.description)
                }
            }
        } else {
            protobuf = body
        }
        func parse() throws(APIError) -> RemoteWriteBatchBuilder.Parsed {
            do throws(RemoteWriteError) {
                return try remoteWriteBuilder.parse(protobuf)
            } catch {
                metrics.remoteWriteRefused.increment()
                throw APIError.badRequest(error.description)
            }
        }
        var decoded = try parse()
        metrics.remoteWriteRequests.increment()
        if decoded.exemplarsSkipped + decoded.histogramsSkipped > 0 {
            metrics.remoteWriteSkipped.increment(by: Int64(decoded.exemplarsSkipped + decoded.histogramsSkipped))
        }
        // Metadata-only requests (Prometheus sends them every minute) and empty ones.
        guard decoded.sampleCount > 0 else {
            return Response(status: .noContent, headers: [.samplesWritten: "0"])
        }
        let result: AppendResult
        do {
            result = try await remoteWriteBuilder.append(&decoded, to: db, reparse: parse)
        } catch let e as TSDBError {
            throw APIError.from(e)
        }
        metrics.samplesWritten.increment(by: Int64(result.appended))
        metrics.remoteWriteSamples.increment(by: Int64(result.appended))
        if result.outOfWindow > 0 {
            // Resending will not help (the samples are too old), so 400 like Prometheus'
            // own receiver for out-of-order samples: the sender drops them and logs this.
            metrics.remoteWriteOutOfWindow.increment(by: Int64(result.outOfWindow))
            throw APIError(.badRequest, code: "out_of_window",
                           message: "\(result.appended) samples stored; \(result.outOfWindow) are older than the out-of-order window behind their series' newest sample and were refused",
                           headers: [.samplesWritten: String(result.appended), .samplesRejected: String(result.outOfWindow)])
        }
        return Response(status: .noContent, headers: [
            .samplesWritten: String(result.appended),
            .samplesRejected: "0",
        ])
    }
}
