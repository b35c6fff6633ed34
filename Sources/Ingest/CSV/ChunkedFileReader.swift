import Foundation

/// Reads a file in fixed-size chunks (1 MiB by default) into one reused buffer: the one read
/// loop of `import`, ``DCGMCSVParser/parseFile(path:strict:_:)`` and the streamer.
///
/// ```swift
/// var reader = try ChunkedFileReader(path: path)
/// while try reader.next({ chunk in try parser.feedRows(chunk, onRow) }) != nil {}
/// ```
package struct ChunkedFileReader: ~Copyable {
    package let path: String
    private let fd: Int32
    private var buffer: [UInt8]

    /// Opens `path`; a missing, unreadable file or a directory is ``DCGMError/unreadable(path:message:)``.
    package init(path: String, chunkSize: Int = 1 << 20) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw DCGMError.unreadable(path: path, message: String(cString: strerror(errno))) }
        var st = stat()
        if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw DCGMError.unreadable(path: path, message: "is a directory")
        }
        self.path = path
        self.fd = fd
        buffer = [UInt8](repeating: 0, count: max(1, chunkSize))
    }

    deinit { close(fd) }

    /// Reads the next chunk and hands it to `body` (valid only inside it); nil at end of file,
    /// without calling `body`.
    package mutating func next<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R? {
        let size = buffer.count
        while true {
            let n = buffer.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, size) }
            if n < 0 {
                if errno == EINTR { continue }
                throw DCGMError.unreadable(path: path, message: String(cString: strerror(errno)))
            }
            if n == 0 { return nil }
            return try buffer.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
    }
}
