#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive `flock` on a file inside a directory, held for the life of this value, so a
/// second process on the same directory fails at once instead of writing beside the first.
/// The lock file holds the owner's pid, which a refused opener reports.
///
/// ```swift
/// let lock = try DirectoryLock(directory: "./data", fileName: "LOCK")   // released on deinit
/// ```
package final class DirectoryLock: Sendable {
    package let path: String
    private let fd: Int32

    /// Takes the lock or throws ``DirectoryLockError/busy(directory:holder:)`` when another
    /// process holds it.
    package init(directory: String, fileName: String) throws(DirectoryLockError) {
        let path = directory.hasSuffix("/") ? directory + fileName : directory + "/" + fileName
        self.path = path
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .cannotOpen(path: path, reason: SystemError.message(errno)) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            var buf = [UInt8](repeating: 0, count: 32)
            let n = read(fd, &buf, 31)
            close(fd)
            let holder = n > 0 ? String(decoding: buf[0..<n], as: UTF8.self).filter { $0.isNumber } : ""
            throw .busy(directory: directory, holder: holder.isEmpty ? nil : holder)
        }
        _ = ftruncate(fd, 0)
        let pid = Array("\(getpid())\n".utf8)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        self.fd = fd
    }

    /// Releases the lock now (a closed database lets the directory be reopened while this
    /// value still lives); deinit closes the file either way.
    package func release() { _ = flock(fd, LOCK_UN) }

    deinit { close(fd) }
}

/// Why a ``DirectoryLock`` was not taken.
package enum DirectoryLockError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Another process holds the lock; `holder` is its pid when the lock file says.
    case busy(directory: String, holder: String?)
    case cannotOpen(path: String, reason: String)

    package var description: String {
        switch self {
        case .busy(let directory, let holder):
            return "\(directory) is in use by another telemetry process\(holder.map { " (pid \($0))" } ?? ""); stop it or give another --data-dir"
        case .cannotOpen(let path, let reason):
            return "cannot open \(path): \(reason)"
        }
    }
}
