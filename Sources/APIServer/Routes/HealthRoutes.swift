import HTTPTypes
import Hummingbird

extension APIHandlers {
    /// `/health` (liveness), `/ready` (503 until ready), `/metrics` (Prometheus text).
    func addHealthRoutes(to router: Router<APIRequestContext>) {
        router.get("health") { _, _ -> Response in JSONWriter.statusResponse("ok") }
        router.get("ready") { _, _ -> Response in
            guard readiness.isReady else { throw APIError.unavailable("not ready: the write-ahead log is still being replayed") }
            return JSONWriter.statusResponse("ready")
        }
        router.get("metrics") { _, _ -> Response in
            var buffer: [UInt8] = []
            metrics.registry.emit(into: &buffer)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: buffer)))
        }
        // InfluxDB clients probe /ping before writing.
        router.get("ping") { _, _ -> Response in
            Response(status: .noContent, headers: [HTTPField.Name("X-Influxdb-Version")!: "1.8-compatible"])
        }
        router.head("ping") { _, _ -> Response in
            Response(status: .noContent, headers: [HTTPField.Name("X-Influxdb-Version")!: "1.8-compatible"])
        }
    }
}
