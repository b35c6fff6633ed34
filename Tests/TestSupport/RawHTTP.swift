import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A failure of a test helper (a socket call, a child that never announced its port).
package struct TestSupportError: Error, CustomStringConvertible {
    package let description: String
    package init(_ description: String) { self.description = description }
}

/// Sends one HTTP/1.1 request with the target exactly as given (no client-side
/// normalisation, like `curl --path-as-is`) to 127.0.0.1:`port` and returns the status code of
/// the reply. The blocking socket work runs on a Dispatch thread: blocking a thread of Swift's
/// small cooperative pool would starve a server under test running in this process.
///
/// ```swift
/// #expect(try await rawStatus(port: server.port, method: "GET", target: "//health/.") == 404)
/// ```
package func rawStatus(port: Int, method: String, target: String, headers: [(String, String)] = [], body: [UInt8] = []) async throws -> Int {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(with: Result { try blockingRawStatus(port: port, method: method, target: target, headers: headers, body: body) })
        }
    }
}

package func rawStatus(port: Int, method: String, target: String, headers: [(String, String)] = [], body: String) async throws -> Int {
    try await rawStatus(port: port, method: method, target: target, headers: headers, body: Array(body.utf8))
}

private func blockingRawStatus(port: Int, method: String, target: String, headers: [(String, String)], body: [UInt8]) throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestSupportError("socket: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var timeout = timeval(tv_sec: Patience.replySeconds, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    guard connectLoopback(fd, port: port) == 0 else { throw TestSupportError("connect to 127.0.0.1:\(port): \(String(cString: strerror(errno)))") }
    var head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
    for (name, value) in headers { head += "\(name): \(value)\r\n" }
    head += "Content-Length: \(body.count)\r\n\r\n"
    let bytes = Array(head.utf8) + body
    var sent = 0
    while sent < bytes.count {
        let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard n > 0 else { throw TestSupportError("send: \(String(cString: strerror(errno)))") }
        sent += n
    }
    // Only the status line is needed ("HTTP/1.1 401 ..."); a stream route never ends its body.
    var reply: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 1024)
    var ended = "the server closed the connection"
    while !reply.contains(UInt8(ascii: "\n")) {
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n < 0 {
            ended = errno == EAGAIN || errno == EWOULDBLOCK ? "no reply within \(Patience.reply)" : "recv: \(String(cString: strerror(errno)))"
        }
        guard n > 0 else { break }
        reply.append(contentsOf: buffer[..<n])
    }
    let line = String(decoding: reply.prefix { $0 != UInt8(ascii: "\r") }, as: UTF8.self)
    let fields = line.split(separator: " ")
    guard fields.count >= 2, let status = Int(fields[1]) else {
        throw TestSupportError("no status line for \(method) \(target) (\(ended)): \"\(line)\"")
    }
    return status
}
