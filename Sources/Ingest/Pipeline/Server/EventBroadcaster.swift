import Foundation
import NIOCore
import Synchronization

/// Fans Server-Sent Events out to live subscribers (the streamer's `GET /events`). Each
/// subscriber has a bounded buffer; a subscriber that falls behind loses its oldest events
/// instead of slowing the publisher. With no subscribers, ``hasSubscribers`` is false and callers
/// skip building events at all.
package final class EventBroadcaster: Sendable {
    private struct State {
        var next = 0
        var subscribers: [Int: AsyncStream<ByteBuffer>.Continuation] = [:]
        var sequence = 0
        var finished = false
    }
    private let state = Mutex(State())
    private let bufferEvents: Int

    package init(bufferEvents: Int = 1024) {
        self.bufferEvents = bufferEvents
    }

    package var hasSubscribers: Bool { state.withLock { !$0.subscribers.isEmpty } }
    package var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    /// A stream of encoded SSE frames; ends when the broadcaster finishes or the consumer stops.
    package func subscribe() -> AsyncStream<ByteBuffer> {
        let (stream, continuation) = AsyncStream<ByteBuffer>.makeStream(bufferingPolicy: .bufferingNewest(bufferEvents))
        let id: Int? = state.withLock { s in
            if s.finished { return nil }
            s.next += 1
            s.subscribers[s.next] = continuation
            return s.next
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.yield(ByteBuffer(string: ": connected\n\n"))
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    /// Sends one event (`event:` name, JSON `data:`) to every subscriber.
    package func publish(event: String, json: String) {
        let subscribers: [AsyncStream<ByteBuffer>.Continuation] = state.withLock { s in
            s.sequence += 1
            return Array(s.subscribers.values)
        }
        guard !subscribers.isEmpty else { return }
        let seq = state.withLock { $0.sequence }
        let frame = ByteBuffer(string: "id: \(seq)\nevent: \(event)\ndata: \(json)\n\n")
        for c in subscribers { c.yield(frame) }
    }

    /// Sends a comment line to keep idle connections open through proxies.
    package func heartbeat() {
        let subscribers = state.withLock { Array($0.subscribers.values) }
        for c in subscribers { c.yield(ByteBuffer(string: ": hb\n\n")) }
    }

    /// Ends every stream (so HTTP responses complete and servers can stop).
    package func finish() {
        let subscribers = state.withLock { s in
            s.finished = true
            let all = Array(s.subscribers.values)
            s.subscribers.removeAll()
            return all
        }
        for c in subscribers { c.finish() }
    }
}
