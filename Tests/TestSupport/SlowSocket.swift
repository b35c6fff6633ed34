import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A raw TCP connection to 127.0.0.1 for playing a slow client: sends what it is told, never
/// reads unless asked, and tells when the server has closed it. All calls block briefly or
/// not at all (the socket is non-blocking after connecting); run them off Swift's cooperative
/// pool (``offPool(_:)``), which the server under test shares. (Shared by the API's, broker's and proxy's slow-client tests.)
package final class SlowSocket: @unchecked Sendable {
    package let fd: Int32
    package private(set) var closedAt: ContinuousClock.Instant?
    package private(set) var received = 0

    /// - Parameter receiveBuffer: a small `SO_RCVBUF` (set before connecting) so a client that
    ///   does not read stalls the server's writes after a few megabytes, not tens.
    package init(port: Int, receiveBuffer: Int32? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SlowSocketError(message: "socket: errno \(errno)") }
        if var size = receiveBuffer {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        guard connectLoopback(fd, port: port) == 0 else {
            let e = errno
            Glibc.close(fd)
            throw SlowSocketError(message: "connect to 127.0.0.1:\(port): errno \(e)")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    deinit { Glibc.close(fd) }

    package var isClosed: Bool { closedAt != nil }

    /// Sends `bytes` (as much as the socket takes now); a reset or broken pipe marks it closed.
    package func send(_ text: String) {
        guard !isClosed else { return }
        let bytes = Array(text.utf8)
        let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if n < 0, errno == EPIPE || errno == ECONNRESET { closedAt = .now }
    }

    /// Reads whatever has arrived (counting it) and notes an end of stream or a reset.
    package func poll() {
        guard !isClosed else { return }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n > 0 { received += n; continue }
            if n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) { closedAt = .now }
            return
        }
    }

    /// Reads until the server closes the connection or `seconds` pass without it; true when closed.
    package func drain(seconds: Double) -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            poll()
            if isClosed { return true }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            _ = Glibc.poll(&p, 1, 100)
        }
        return false
    }
}

package struct SlowSocketError: Error, CustomStringConvertible {
    package let message: String
    package var description: String { message }
}

/// Runs blocking socket work on a Dispatch thread (see ``SlowSocket``).
package func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
    }
}
