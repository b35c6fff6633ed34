#if canImport(Glibc)
import Glibc
#endif

/// Whole-file reads for the engine's own files (block index, WAL segments) with `open` /
/// `fstat` / `read`: no Foundation buffering (whose read of an empty file leaks its buffer,
/// found by the `block` fuzz target), and an error that says which call failed.
enum FileBytes {
    static func read(_ path: String) throws(TSDBError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(path: path, message: "open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .io(path: path, message: "fstat: \(String(cString: strerror(errno)))") }
        let size = Int(st.st_size)
        guard size > 0 else { return [] }
        var out = [UInt8](repeating: 0, count: size)
        var done = 0
        while done < size {
            let n = out.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + done, size - done) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw .io(path: path, message: "read: \(String(cString: strerror(errno)))") }
            if n == 0 { break }  // shrank while reading: keep what is there
            done += n
        }
        if done < size { out.removeSubrange(done...) }
        return out
    }
}
