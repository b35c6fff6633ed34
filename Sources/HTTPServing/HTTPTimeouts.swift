import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes

/// How long an HTTP connection may keep the server waiting on its client. Every role's server
/// (API, broker, proxy, streamer and collector status) applies them through ``httpServer(logger:)``.
///
/// - `idle`: Hummingbird's own idle timeout. It restarts only when a whole request part (the
///   head, a body chunk, the end) has been decoded, so it closes a keep-alive connection left
///   idle, a request whose headers are trickled in (slowloris: no head is ever decoded), and a
///   body that stops arriving.
/// - `read`: the whole request, head to end, must arrive within it; this closes a body trickled
///   in a byte at a time, which keeps restarting the idle timer (Hummingbird has no such bound).
/// - `write`: a response the client does not read. NIO stops our writer once 64 KiB are queued
///   (the channel turns unwritable), so memory stays bounded; a connection that stays
///   unwritable this long, i.e. whose client took nothing in that time, is closed so the
///   handler's task and the response it holds are released. Live streams (SSE) fall under
///   this too: a subscriber that stops reading loses its stream.
///
/// None of them holds a thread: the waits are event-loop timers.
package struct HTTPTimeouts: Sendable, Equatable, CustomStringConvertible {
    package var idle: Duration
    package var read: Duration
    package var write: Duration

    package init(idle: Duration = .seconds(30), read: Duration = .seconds(60), write: Duration = .seconds(60)) {
        self.idle = idle
        self.read = read
        self.write = write
    }

    /// The defaults: `--idle-timeout 30s`, `--read-timeout 60s`, `--write-timeout 60s`.
    package static let defaults = HTTPTimeouts()

    /// Fails (naming the flag) when a timeout is not positive.
    package func validate() throws(HTTPTimeoutError) {
        for (flag, value) in [("--idle-timeout", idle), ("--read-timeout", read), ("--write-timeout", write)] where value <= .zero {
            throw HTTPTimeoutError(flag: flag)
        }
    }

    package var description: String { "idle \(idle), read \(read), write \(write)" }

    /// The HTTP/1.1 server of a role with these timeouts: pass it as `Application(server:)`.
    package func httpServer(logger: Logger) -> HTTPServerBuilder {
        let timeouts = self
        return .http1(configuration: HTTP1Channel.Configuration(
            additionalChannelHandlers: [SlowClientGuard(timeouts: timeouts, logger: logger)],
            idleTimeout: TimeAmount(timeouts.idle)
        ))
    }
}

/// A timeout that is not positive.
package struct HTTPTimeoutError: Error, Sendable, CustomStringConvertible {
    package let flag: String
    package var description: String { "\(flag) must be a positive duration (for example 30s)" }
}

/// One connection's read and write deadlines (see ``HTTPTimeouts``): sits after the HTTP/1
/// decoder, so it sees request heads and ends, and closes the connection when a request takes
/// longer than `read` to arrive or the socket stays unwritable for `write`.
final class SlowClientGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let read: TimeAmount
    private let write: TimeAmount
    private let logger: Logger
    private var readDeadline: Scheduled<Void>?
    private var writeDeadline: Scheduled<Void>?

    init(timeouts: HTTPTimeouts, logger: Logger) {
        self.read = TimeAmount(timeouts.read)
        self.write = TimeAmount(timeouts.write)
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            readDeadline?.cancel()
            readDeadline = schedule(context, in: read, reason: "the request did not arrive within --read-timeout")
        case .end:
            readDeadline?.cancel()
            readDeadline = nil
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            writeDeadline?.cancel()
            writeDeadline = nil
        } else if writeDeadline == nil {
            writeDeadline = schedule(context, in: write, reason: "the client read nothing of the response for --write-timeout")
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelAll()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelAll()
    }

    private func cancelAll() {
        readDeadline?.cancel()
        writeDeadline?.cancel()
        readDeadline = nil
        writeDeadline = nil
    }

    private func schedule(_ context: ChannelHandlerContext, in delay: TimeAmount, reason: String) -> Scheduled<Void> {
        let logger = self.logger
        return context.eventLoop.assumeIsolated().scheduleTask(in: delay) {
            logger.notice("closing a slow HTTP connection", metadata: [
                "remote": "\(context.channel.remoteAddress.map { "\($0)" } ?? "?")", "reason": "\(reason)",
            ])
            context.close(promise: nil)
        }
    }
}
