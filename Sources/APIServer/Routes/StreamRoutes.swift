import HTTPTypes
import Hummingbird
import ServiceLifecycle
import TSDB

extension APIHandlers {
    /// `GET /api/v1/gpus/{uuid}/stream`: the GPU's new samples as Server-Sent Events
    /// (`event: sample`, JSON data shaped like a telemetry item), with a comment heartbeat.
    func addStreamRoutes(to v1: RouterGroup<APIRequestContext>) {
        v1.get("gpus/:uuid/stream") { request, context -> Response in
            let uuid = try pathParameter(context, "uuid")
            let q = try QueryParameters(request.uri)
            let metrics = Set(q.all("metric", split: true))
            guard db.gpu(uuid: uuid) != nil else { throw APIError.notFound("no GPU with uuid \"\(uuid)\"") }
            guard let slot = streams.acquire() else {
                throw APIError(.tooManyRequests, code: "stream_limit_exceeded",
                               message: "\(streams.limit) live streams are open, the limit (max_stream_subscribers: --max-stream-subscribers, env MAX_STREAM_SUBSCRIBERS); retry after one closes",
                               headers: [.retryAfter: "5"])
            }
            let feed = db.subscribe()
            let heartbeat = Duration.milliseconds(Int64(config.streamHeartbeatSeconds * 1000))
            let (events, continuation) = AsyncStream<[UInt8]>.makeStream(bufferingPolicy: .bufferingNewest(1024))
            let forward = Task {
                for await batch in feed {
                    var chunk: [UInt8] = []
                    for sample in batch where GPULabelAliases.first(GPULabelAliases.uuid, in: sample.labels) == uuid {
                        let metric = sample.labels.metric ?? ""
                        if !metrics.isEmpty && !metrics.contains(metric) { continue }
                        var w = JSONWriter(capacity: 256)
                        w.beginObject()
                        w.key("timestamp"); w.timestamp(sample.timestamp)
                        w.key("metric"); w.string(metric)
                        w.key("value"); w.double(sample.value)
                        for (names, field) in Self.sampleFields {
                            if let v = GPULabelAliases.first(names, in: sample.labels) { w.key(field); w.string(v) }
                        }
                        w.endObject()
                        chunk.append(contentsOf: Array("event: sample\ndata: ".utf8))
                        chunk.append(contentsOf: w.bytes)
                        chunk.append(contentsOf: [0x0A, 0x0A])
                    }
                    if !chunk.isEmpty { continuation.yield(chunk) }
                }
                continuation.finish()
            }
            let ticker = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: heartbeat)
                    continuation.yield(Array(": heartbeat\n\n".utf8))
                }
            }
            continuation.onTermination = { _ in forward.cancel(); ticker.cancel(); slot.release() }
            let headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache", HTTPField.Name("X-Accel-Buffering")!: "no"]
            return Response(status: .ok, headers: headers, body: ResponseBody { writer in
                defer { forward.cancel(); ticker.cancel(); slot.release() }
                try await writer.write(ByteBuffer(bytes: Array(": stream of \(uuid.count) byte uuid opened\n\n".utf8)))
                // A graceful shutdown ends open streams instead of waiting for their clients.
                try await withGracefulShutdownHandler {
                    for await event in events {
                        try await writer.write(ByteBuffer(bytes: event))
                    }
                } onGracefulShutdown: {
                    continuation.finish()
                }
                try await writer.finish(nil)
            })
        }
    }
}
