#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes that survive a crash once they return: the file's bytes are fsynced, and a
/// directory is fsynced after a file in it was created or renamed, so the entry itself lasts.
///
/// ```swift
/// try DurableFile.write("/data/blocks/.tmp-7/index", bytes)
/// try DurableFile.syncDirectory("/data/blocks/.tmp-7")
/// ```
package enum DurableFile {
    /// Writes `bytes` to `path` (created, or truncated when `exclusive` is false; refused when
    /// it exists and `exclusive` is true) and fsyncs the file.
    package static func write(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644, exclusive: Bool = false) throws(DurableFileError) {
        let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC)
        let fd = open(path, flags, mode)
        guard fd >= 0 else { throw .failed(path: path, operation: "create", reason: SystemError.message(errno)) }
        defer { close(fd) }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { systemWrite(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .failed(path: path, operation: "write", reason: SystemError.message(errno))
            }
            written += n
        }
        guard fsync(fd) == 0 else { throw .failed(path: path, operation: "fsync", reason: SystemError.message(errno)) }
    }

    /// Fsyncs a directory so entries created, renamed or removed in it are durable.
    package static func syncDirectory(_ path: String) throws(DurableFileError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .failed(path: path, operation: "open", reason: SystemError.message(errno)) }
        defer { close(fd) }
        _ = fsync(fd)
    }
}

/// A durable write that did not happen; says which call failed on which path, and why.
package enum DurableFileError: Error, Sendable, Equatable, CustomStringConvertible {
    case failed(path: String, operation: String, reason: String)

    package var path: String {
        switch self { case .failed(let path, _, _): return path }
    }

    package var description: String {
        switch self {
        case .failed(let path, let operation, let reason): return "cannot \(operation) \(path): \(reason)"
        }
    }
}

@inline(__always) private func systemWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int {
    write(fd, p, n)
}
