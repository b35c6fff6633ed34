import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import ServiceLifecycle
import Primitives

extension ProxyServer {
    static let sseHeaders: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache"]
    /// Upstream SSE requests have no deadline: the stream lasts as long as the client stays.
    static let streamTimeout: TimeAmount = .hours(24 * 365)

    /// Ids of records delivered by a broker other than the partition's owner carry the tag of
    /// that broker (`f<hex>~<id>`), so their acks find their way back (failover only).
    static func tag(_ broker: String) -> String {
        let h = String(XXHash64.hash(broker), radix: 16)
        return "f" + String(repeating: "0", count: 16 - h.count) + h
    }

    func consume(_ request: Request) async -> Response {
        guard let k = key(request) else { return badKey() }
        guard let group = request.uri.queryParameters.get("group"), (try? validateName(group, kind: "group")) != nil else {
            return HTTPErrors.response(status: .badRequest, code: "bad_request", message: "query parameter 'group' (A-Z a-z 0-9 . _ -) is required")
        }
        let query = request.uri.query ?? ""
        if config.failover { return mergedConsume(k, query: query, headers: request.headers) }
        guard case .broker(let b, _) = table.route(topic: k.topic, partition: k.partition) else {
            return unavailable(table.owner(topic: k.topic, partition: k.partition))
        }
        let upstream: HTTPClientResponse
        do {
            upstream = try await client.execute(upstreamRequest(b, path: "/consume", query: query, method: .GET, headers: request.headers, body: nil),
                                                timeout: Self.streamTimeout)
        } catch {
            table.markDown(b)
            return unavailable(b)
        }
        count(broker: b, status: Int(upstream.status.code))
        guard upstream.status == .ok else {
            let body = (try? await upstream.body.collect(upTo: 1 << 20)) ?? ByteBuffer()
            var h: HTTPFields = [.contentType: upstream.headers.first(name: "Content-Type") ?? "application/json"]
            if let ra = upstream.headers.first(name: "Retry-After") { h[.retryAfter] = ra }
            return Response(status: .init(code: Int(upstream.status.code)), headers: h, body: .init(byteBuffer: body))
        }
        // Unbuffered passthrough: every chunk the broker flushes is written (and flushed) at once,
        // SSE or binary record frames alike (the broker's Content-Type goes with it).
        var headers = Self.sseHeaders
        if let ct = upstream.headers.first(name: "Content-Type") { headers[.contentType] = ct }
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            await Self.relay(to: &writer) { out in
                do {
                    for try await chunk in upstream.body { out.yield(chunk) }
                } catch {}
            }
        })
    }

    /// Failover mode: the stream merges the partition from every healthy broker in ring order
    /// (the owner untagged, the others tagged), re-attaching brokers as they come back, so
    /// records written to a fallback while the owner was down are drained, not stranded.
    func mergedConsume(_ k: (topic: String, partition: Int), query: String, headers: HTTPFields) -> Response {
        let preference = table.preference(topic: k.topic, partition: k.partition)
        guard preference.contains(where: { table.isUp($0) }) else { return unavailable(preference.first) }
        let owner = preference.first
        let interval = config.healthInterval
        let binary = query.split(separator: "&").contains("encoding=binary")
        var responseHeaders = Self.sseHeaders
        if binary { responseHeaders[.contentType] = RecordFrames.contentType }
        return Response(status: .ok, headers: responseHeaders, body: ResponseBody { writer in
            await Self.relay(to: &writer) { continuation in
                    await withTaskGroup(of: String.self) { pumps in
                        var attached = Set<String>()
                        while !Task.isCancelled {
                            for b in preference where table.isUp(b) && !attached.contains(b) {
                                attached.insert(b)
                                pumps.addTask {
                                    if binary {
                                        await pumpFrames(b, tagged: b != owner, query: query, headers: headers, into: continuation)
                                    } else {
                                        await pump(b, tagged: b != owner, query: query, headers: headers, into: continuation)
                                    }
                                    return b
                                }
                            }
                            pumps.addTask { try? await Task.sleep(for: interval); return "" }
                            while let done = await pumps.next() {
                                if done.isEmpty { break }
                                attached.remove(done)
                            }
                        }
                        pumps.cancelAll()
                    }
            }
        })
    }

    /// Runs `produce` in a child task and writes what it yields, each buffer flushed as it
    /// comes. Ends when `produce` returns, the client goes away, or the server shuts down
    /// gracefully (so a drain is never held up by an idle stream).
    static func relay(to writer: inout any ResponseBodyWriter,
                      _ produce: @escaping @Sendable (AsyncStream<ByteBuffer>.Continuation) async -> Void) async {
        let (stream, continuation) = AsyncStream<ByteBuffer>.makeStream()
        await withTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                await produce(continuation)
                continuation.finish()
            }
            await withGracefulShutdownHandler {
                do {
                    for await buffer in stream { try await writer.write(buffer) }
                } catch {}
            } onGracefulShutdown: {
                continuation.finish()
            }
            tasks.cancelAll()
        }
        try? await writer.finish(nil)
    }

    /// Opens one broker's `/consume` stream: nil (the broker marked down when unreachable) unless
    /// it answered 200.
    private func openStream(_ broker: String, query: String, headers: HTTPFields) async -> HTTPClientResponse? {
        let response: HTTPClientResponse
        do {
            response = try await client.execute(upstreamRequest(broker, path: "/consume", query: query, method: .GET, headers: headers, body: nil),
                                                timeout: Self.streamTimeout)
        } catch {
            table.markDown(broker)
            return nil
        }
        return response.status == .ok ? response : nil
    }

    /// Streams one broker's events into the merged stream, whole events only.
    private func pump(_ broker: String, tagged: Bool, query: String, headers: HTTPFields, into out: AsyncStream<ByteBuffer>.Continuation) async {
        guard let response = await openStream(broker, query: query, headers: headers) else { return }
        let tag = Self.tag(broker)
        var pending: [UInt8] = []
        do {
            for try await chunk in response.body {
                pending.append(contentsOf: chunk.readableBytesView)
                guard let cut = Self.lastEventEnd(pending) else { continue }
                let events = Array(pending[..<cut])
                pending.removeFirst(cut)
                out.yield(ByteBuffer(bytes: tagged ? Self.retag(events, tag: tag) : events))
            }
        } catch {}
    }

    /// Streams one broker's binary record frames into the merged stream, whole frames only,
    /// ids tagged for a broker other than the owner. A broker that answers with another
    /// encoding (an older version) is left out of the merge and logged.
    private func pumpFrames(_ broker: String, tagged: Bool, query: String, headers: HTTPFields,
                            into out: AsyncStream<ByteBuffer>.Continuation) async {
        guard let response = await openStream(broker, query: query, headers: headers) else { return }
        guard response.headers.first(name: "Content-Type") == RecordFrames.contentType else {
            logger.warning("broker does not stream binary records; leaving it out of the merged stream",
                           metadata: ["broker": "\(broker)", "contentType": "\(response.headers.first(name: "Content-Type") ?? "-")"])
            return
        }
        let prefix = tagged ? Self.tag(broker) + "~" : ""
        var decoder = RecordFrameDecoder()
        do {
            for try await chunk in response.body {
                let frames = try decoder.feed(chunk)
                guard !frames.isEmpty else {
                    if decoder.isAtBoundary { out.yield(RecordFrames.heartbeatBuffer) }
                    continue
                }
                var buffer = ByteBuffer()
                buffer.reserveCapacity(frames.reduce(0) { $0 + $1.payload.count + prefix.utf8.count + $1.id.utf8.count + 11 })
                for f in frames { RecordFrames.append(id: prefix + f.id, deliveryCount: f.deliveryCount, payload: f.payload, to: &buffer) }
                out.yield(buffer)
            }
        } catch {
            logger.warning("broker's record stream ended", metadata: ["broker": "\(broker)", "error": "\(error)"])
        }
    }

    /// Index just past the last `\n\n` in `bytes`.
    static func lastEventEnd(_ bytes: [UInt8]) -> Int? {
        var i = bytes.count - 1
        while i > 0 {
            if bytes[i] == 10 && bytes[i - 1] == 10 { return i + 1 }
            i -= 1
        }
        return nil
    }

    /// Rewrites every `id: X` line to `id: <tag>~X`.
    static func retag(_ events: [UInt8], tag: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(events.count + 64)
        let prefix = Array("id: ".utf8)
        let insert = Array((tag + "~").utf8)
        var lineStart = true
        var i = 0
        while i < events.count {
            if lineStart && events.count - i >= prefix.count && Array(events[i..<(i + prefix.count)]) == prefix {
                out.append(contentsOf: prefix)
                out.append(contentsOf: insert)
                i += prefix.count
                lineStart = false
                continue
            }
            out.append(events[i])
            lineStart = events[i] == 10
            i += 1
        }
        return out
    }

    /// Ack: to the owner; in failover mode, tagged ids go back to the broker that delivered them.
    func ack(_ request: Request) async -> Response {
        guard let k = key(request) else { return badKey() }
        guard config.failover else { return await forwardUnary(request, path: "/ack") }
        guard let body = await collectBody(request) else { return tooLarge() }
        let ids: [String]
        do { ids = try AckBody.decode(body) } catch let e as BrokerError { return HTTPErrors.response(for: e) } catch { return badKey() }
        guard let owner = table.owner(topic: k.topic, partition: k.partition) else { return unavailable(nil) }
        let tags = Dictionary(uniqueKeysWithValues: table.ring.nodes.map { (Self.tag($0), $0) })
        var byBroker: [String: [String]] = [:]
        for id in ids {
            if let sep = id.firstIndex(of: "~"), let b = tags[String(id[..<sep])] {
                byBroker[b, default: []].append(String(id[id.index(after: sep)...]))
            } else {
                byBroker[owner, default: []].append(id)
            }
        }
        var acked = 0
        var unknown: [String] = []
        for (b, list) in byBroker.sorted(by: { $0.key < $1.key }) {
            let payload = (try? JSONSerialization.data(withJSONObject: ["ids": list])) ?? Data()
            guard let r = await sendRaw(b, path: "/ack", query: request.uri.query ?? "", method: .POST,
                                        headers: [.contentType: "application/json"], body: ByteBuffer(bytes: payload)) else {
                return unavailable(b)
            }
            let json = (try? JSONSerialization.jsonObject(with: Data(buffer: r.body))) as? [String: Any] ?? [:]
            if r.status == 200 || r.status == 404 {
                acked += json["acked"] as? Int ?? 0
                let prefix = b == owner ? "" : Self.tag(b) + "~"
                unknown += (json["unknown"] as? [String] ?? []).map { prefix + $0 }
            } else {
                return Response(status: .init(code: r.status), headers: [.contentType: "application/json"], body: .init(byteBuffer: r.body))
            }
        }
        if !unknown.isEmpty {
            let list = unknown.prefix(100).map(JSONFormat.quoted).joined(separator: ",")
            return HTTPErrors.response(status: .notFound, code: "unknown_id", message: "\(unknown.count) id(s) are not in flight for this group",
                                       extra: "\"acked\":\(acked),\"unknown\":[\(list)],")
        }
        return HTTPErrors.json("{\"acked\":\(acked)}")
    }
}
