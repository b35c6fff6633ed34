#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A private directory for harnesses whose real entry point reads files (WAL replay, block
/// open, broker segments): made once per process, emptied and refilled for every input.
enum Scratch {
    nonisolated(unsafe) private static var root: String?

    /// `<root>/<name>`, created on first use.
    static func directory(_ name: String) -> String {
        let base: String
        if let r = root {
            base = r
        } else {
            let parent = environment("TMPDIR") ?? "/tmp"
            var template = Array("\(parent)/telemetry-fuzz-XXXXXX".utf8CString)
            guard let made = template.withUnsafeMutableBufferPointer({ b in b.baseAddress.flatMap { mkdtemp($0) } }) else {
                say("cannot create a scratch directory under \(parent)\n")
                abort()
            }
            base = String(cString: made)
            root = base
            atexit { Scratch.removeAll() }
        }
        let dir = "\(base)/\(name)"
        mkdir(dir, 0o755)
        return dir
    }

    /// Replaces `path` with exactly `bytes`.
    static func write(_ path: String, _ bytes: UnsafeRawBufferPointer) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else {
            say("cannot write \(path)\n")
            abort()
        }
        var done = 0
        while done < bytes.count {
            guard let base = bytes.baseAddress else { break }
            let n = Glibc.write(fd, base + done, bytes.count - done)
            guard n > 0 else { break }
            done += n
        }
        close(fd)
    }

    static func remove(_ path: String) { unlink(path) }

    /// Removes the whole scratch tree (at exit: libFuzzer ends runs with `exit`).
    static func removeAll() {
        guard let root else { return }
        _ = try? FileManager.default.removeItem(atPath: root)
    }

    static func size(_ path: String) -> Int {
        var st = stat()
        return stat(path, &st) == 0 ? Int(st.st_size) : -1
    }
}
