#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Thin, throwing wrappers over the POSIX calls the log needs (no buffering, no Foundation
/// file handles: every write lands at a known position so a failed one can be undone).
enum FileIO {
    static func errnoMessage(_ what: String, _ path: String) -> String {
        "\(what) \(path): \(String(cString: strerror(errno)))"
    }

    static func open(_ path: String, create: Bool) throws -> Int32 {
        let flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0)
        let fd = Glibc.open(path, flags, 0o644)
        guard fd >= 0 else { throw BrokerError.io(errnoMessage("open", path)) }
        return fd
    }

    /// Writes all of `bytes` at `position`; on failure the caller truncates back.
    static func pwriteAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at position: Int) -> Int32? {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(position + done))
            if n < 0 {
                if errno == EINTR { continue }
                return errno
            }
            if n == 0 { return EIO }
            done += n
        }
        return nil
    }

    /// Reads up to `count` bytes at `position` (fewer only at end of file).
    static func pread(_ fd: Int32, count: Int, at position: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        try out.withUnsafeMutableBytes { buf in
            while done < count {
                let n = Glibc.pread(fd, buf.baseAddress! + done, count - done, off_t(position + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw BrokerError.io("read: \(String(cString: strerror(errno)))")
                }
                if n == 0 { break }
                done += n
            }
        }
        if done < count { out.removeLast(count - done) }
        return out
    }

    static func fileSize(_ fd: Int32) -> Int {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return 0 }
        return Int(st.st_size)
    }

    static func makeDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw BrokerError.io("cannot create directory \(path): \(error)")
        }
    }

    static func list(_ path: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
    }

    /// Bytes available to unprivileged writers on the file system holding `path`.
    static func freeBytes(_ path: String) -> Int64? {
        var s = statvfs()
        guard statvfs(path, &s) == 0 else { return nil }
        return Int64(s.f_bavail) * Int64(s.f_frsize)
    }
}

/// Big-endian integer encoding into byte arrays, used by every on-disk format of the broker.
extension Array where Element == UInt8 {
    @inline(__always) mutating func appendBE(_ v: UInt32) {
        append(UInt8(truncatingIfNeeded: v >> 24)); append(UInt8(truncatingIfNeeded: v >> 16))
        append(UInt8(truncatingIfNeeded: v >> 8)); append(UInt8(truncatingIfNeeded: v))
    }
    @inline(__always) mutating func appendBE(_ v: UInt64) {
        appendBE(UInt32(truncatingIfNeeded: v >> 32)); appendBE(UInt32(truncatingIfNeeded: v))
    }
}

extension UnsafeRawBufferPointer {
    @inline(__always) func readBE32(_ at: Int) -> UInt32 {
        UInt32(bigEndian: loadUnaligned(fromByteOffset: at, as: UInt32.self))
    }
    @inline(__always) func readBE64(_ at: Int) -> UInt64 {
        UInt64(bigEndian: loadUnaligned(fromByteOffset: at, as: UInt64.self))
    }
}
