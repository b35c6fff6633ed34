import AsyncHTTPClient
import Broker
import Foundation
import Logging
import NIOCore
import Primitives

/// One partition's consume stream for ``HTTPBrokerClient``: reads `GET /consume` — binary record
/// frames (`encoding=binary`), or Server-Sent Events from a broker that does not know that
/// encoding (raw payloads then, or base64 when the URL asks for it) — into a bounded buffer that
/// ``take(max:wait:)`` drains. When the buffer is full the
/// reader stops reading, so TCP flow control holds the broker back; a broken stream is reopened
/// with backoff (records it had delivered come back after the broker's visibility timeout).
actor SSESubscription {
    nonisolated let client: HTTPBrokerClient
    nonisolated let url: String
    nonisolated let capacity: Int
    nonisolated let logger: Logger

    private var buffer: [ConsumedMessage] = []
    private var head = 0
    private var reader: Task<Void, Never>?
    private var dataWaiter: (id: Int, continuation: CheckedContinuation<Void, Never>)?
    private var spaceWaiter: CheckedContinuation<Void, Never>?
    private var waiterSequence = 0
    private var lastError: BrokerClientError?
    private var stopped = false

    init(client: HTTPBrokerClient, url: String, capacity: Int, logger: Logger) {
        self.client = client
        self.url = url
        self.capacity = capacity
        self.logger = logger
    }

    private var available: Int { buffer.count - head }

    func take(max: Int, wait: Duration) async throws -> [ConsumedMessage] {
        if stopped { throw BrokerClientError.closed }
        if reader == nil { reader = Task { await self.readLoop() } }
        if available == 0 {
            waiterSequence += 1
            let id = waiterSequence
            let timer = Task {
                try? await Task.sleep(for: wait)
                self.wake(id)
            }
            await withCheckedContinuation { c in
                if let old = dataWaiter { old.continuation.resume() }
                dataWaiter = (id, c)
            }
            timer.cancel()
        }
        guard available > 0 else {
            if let e = lastError {
                lastError = nil
                throw e
            }
            return []
        }
        let n = Swift.min(max, available)
        let out = Array(buffer[head..<(head + n)])
        head += n
        if head > 256 || head == buffer.count {
            buffer.removeFirst(head)
            head = 0
        }
        if let w = spaceWaiter {
            spaceWaiter = nil
            w.resume()
        }
        return out
    }

    private func wake(_ id: Int) {
        guard let w = dataWaiter, id == 0 || w.id == id else { return }
        dataWaiter = nil
        w.continuation.resume()
    }

    private func push(_ m: ConsumedMessage) async {
        while available >= capacity && !stopped {
            await withCheckedContinuation { spaceWaiter = $0 }
        }
        guard !stopped else { return }
        buffer.append(m)
        lastError = nil
        wake(0)
    }

    private func fail(_ e: BrokerClientError) {
        lastError = e
    }

    func stop() async {
        stopped = true
        reader?.cancel()
        spaceWaiter?.resume()
        spaceWaiter = nil
        wake(0)
        if let r = reader { await r.value }
    }

    private nonisolated func readLoop() async {
        var failures = 0
        while !Task.isCancelled {
            do {
                var r = client.request(url, method: .GET)
                r.headers.add(name: "Accept", value: "text/event-stream")
                let response = try await client.http.execute(r, timeout: .minutes(10))
                let status = Int(response.status.code)
                guard status == 200 else {
                    let body = (try? await response.body.collect(upTo: 64 * 1024)) ?? ByteBuffer()
                    throw (400..<500).contains(status) && status != 429
                        ? BrokerClientError.rejected(status: status, message: HTTPBrokerClient.message(body))
                        : BrokerClientError.retryable(status: status, retryAfter: parseRetryAfter(response.headers), message: HTTPBrokerClient.message(body))
                }
                failures = 0
                if response.headers.first(name: "Content-Type") == RecordFrames.contentType {
                    var decoder = RecordFrameDecoder()
                    for try await chunk in response.body {
                        for frame in try decoder.feed(chunk) {
                            await push(ConsumedMessage(id: frame.id, payload: frame.payload, deliveryCount: frame.deliveryCount))
                        }
                    }
                } else {
                    let base64 = url.contains("encoding=base64")
                    var parser = SSEParser()
                    for try await chunk in response.body {
                        for event in parser.feed(chunk) {
                            guard let id = event.id, let payload = base64 ? Base64.decode(event.data) : Optional(event.data) else {
                                if event.id != nil { logger.warning("consume event with undecodable data", metadata: ["url": "\(url)"]) }
                                continue
                            }
                            await push(ConsumedMessage(id: id, payload: payload, deliveryCount: event.deliveryCount))
                        }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                failures += 1
                let mapped = (error as? BrokerClientError) ?? .connection("\(url): \(error)")
                await fail(mapped)
                if failures == 1 || failures % 20 == 0 {
                    logger.warning("consume stream failed; reconnecting", metadata: ["url": "\(url)", "error": "\(mapped)", "failures": "\(failures)"])
                }
            }
            let backoff = RetryPolicy(attempts: 100, baseDelay: .milliseconds(100), maxDelay: .seconds(2)).ceiling(retry: failures)
            try? await Task.sleep(for: backoff)
        }
    }
}

/// An incremental Server-Sent Events parser (the subset brokers send: `id`, `event`, `data`, a
/// `delivery` count, comments). Bytes are scanned once (a long `data:` line arriving in many
/// chunks is not rescanned), and data stays bytes.
package struct SSEParser {
    package struct Event {
        package var id: String?
        package var event: String?
        package var data: [UInt8] = []
        package var deliveryCount = 0
    }

    private var pending: [UInt8] = []
    /// Bytes of `pending` already known to hold no newline.
    private var scanned = 0
    private var current = Event()
    private var hasData = false

    mutating func feed(_ chunk: ByteBuffer) -> [Event] {
        chunk.withUnsafeReadableBytes { feed($0) }
    }

    package init() {}

    package mutating func feed(_ chunk: UnsafeRawBufferPointer) -> [Event] {
        pending.append(contentsOf: chunk)
        var events: [Event] = []
        var start = 0
        var i = scanned
        let n = pending.count
        while i < n {
            guard let nl = Self.newline(in: pending, from: i) else { break }
            var end = nl
            if end > start && pending[end - 1] == 0x0D { end -= 1 }
            line(start, end, &events)
            start = nl + 1
            i = start
        }
        if start > 0 { pending.removeFirst(start) }
        scanned = pending.count
        return events
    }

    /// Index of the next `\n` at or after `from` (memchr: payload lines are long).
    private static func newline(in bytes: [UInt8], from: Int) -> Int? {
        bytes.withUnsafeBytes { p -> Int? in
            guard let base = p.baseAddress, from < p.count,
                  let hit = memchr(base + from, 0x0A, p.count - from) else { return nil }
            return base.distance(to: UnsafeRawPointer(hit))
        }
    }

    private mutating func line(_ s: Int, _ e: Int, _ events: inout [Event]) {
        if s == e {
            if hasData || current.id != nil { events.append(current) }
            current = Event()
            hasData = false
            return
        }
        if pending[s] == UInt8(ascii: ":") { return }
        var colon = s
        while colon < e && pending[colon] != UInt8(ascii: ":") { colon += 1 }
        var valueStart = colon < e ? colon + 1 : colon
        if valueStart < e && pending[valueStart] == 0x20 { valueStart += 1 }
        let field = pending[s..<colon]
        if field.elementsEqual("data".utf8) {
            if hasData { current.data.append(0x0A) }
            current.data.append(contentsOf: pending[valueStart..<e])
            hasData = true
            return
        }
        let value = String(decoding: pending[valueStart..<e], as: UTF8.self)
        if field.elementsEqual("id".utf8) {
            current.id = value
        } else if field.elementsEqual("event".utf8) {
            current.event = value
        } else if field.elementsEqual("delivery".utf8) || field.elementsEqual("deliveries".utf8) {
            current.deliveryCount = Int(value) ?? 0
        }
    }
}
