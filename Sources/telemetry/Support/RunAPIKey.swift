import Foundation
import Ingest
import Primitives

/// The API key of the embedded stack: `API_KEY` when given, else one generated on first start
/// and kept in `<data dir>/api-key` (mode 0600) so every later start reuses it.
enum RunAPIKey {
    struct Resolved {
        var keys: [String]
        /// Where the key lives when the stack generated or reused it (nil when it came from API_KEY).
        var file: String?
        /// True when this start created the file.
        var created: Bool
    }

    static let fileName = "api-key"

    static func resolve(given: [String], dataDir: String) throws -> Resolved {
        if !given.isEmpty { return Resolved(keys: given, file: nil, created: false) }
        let path = (dataDir as NSString).appendingPathComponent(fileName)
        if FileManager.default.fileExists(atPath: path) {
            // Tighten a key file someone loosened; it is a credential.
            if chmod(path, 0o600) != 0 {
                throw RunError("cannot set mode 0600 on \(path): \(String(cString: strerror(errno)))")
            }
            let keys: [String]
            do { keys = try APIKeyFile.read(path) } catch { throw RunError("cannot read the API key in \(path): \(error.description)") }
            guard !keys.isEmpty else {
                throw RunError("\(path) holds no key; delete it to have a new one generated, or set API_KEY")
            }
            return Resolved(keys: keys, file: path, created: false)
        }
        let key = generate()
        try writeNew(path: path, contents: key + "\n")
        return Resolved(keys: [key], file: path, created: true)
    }

    /// 32 random bytes from the system's CSPRNG as 64 hex digits.
    static func generate() -> String {
        var rng = SystemRandomNumberGenerator()
        var out = ""
        for _ in 0..<4 {
            let word = rng.next() as UInt64
            let hex = String(word, radix: 16)
            out += String(repeating: "0", count: 16 - hex.count) + hex
        }
        return out
    }

    /// Creates the file with mode 0600 from the start (never readable by others, even briefly)
    /// and fsyncs it, so a crash right after the banner cannot lose the printed key.
    static func writeNew(path: String, contents: String) throws {
        do { try DurableFile.write(path, Array(contents.utf8), mode: 0o600, exclusive: true) } catch { throw RunError(error.description) }
    }
}

/// Finds the DCGM sample the embedded stack replays when no `--csv` is given.
enum SampleLocator {
    static let fileName = "dcgm_metrics_20250718_134233.csv"
    /// Where the Docker image puts it.
    static let installed = "/usr/share/telemetry/dcgm_sample.csv"

    /// The candidates in order: `SAMPLE_CSV`, the installed copy, `./samples/…`, and the
    /// repository this binary was built from (found from this source file's path).
    static func candidates(environment: [String: String], cwd: String = FileManager.default.currentDirectoryPath) -> [String] {
        var list: [String] = []
        if let env = environment["SAMPLE_CSV"], !env.isEmpty { list.append(env) }
        list.append(installed)
        list.append((cwd as NSString).appendingPathComponent("samples/\(fileName)"))
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        list.append(repo.appendingPathComponent("samples/\(fileName)").path)
        return list
    }

    static func locate(environment: [String: String]) throws -> String {
        let list = candidates(environment: environment)
        if let found = list.first(where: { FileManager.default.isReadableFile(atPath: $0) }) { return found }
        throw RunError("""
            the bundled DCGM sample was not found; looked in:
              \(list.joined(separator: "\n  "))
            Give a file with --csv PATH (or SAMPLE_CSV), scrape with --scrape URL, or start without a source with --no-streamer.
            """)
    }

    /// The first GPU UUID of a DCGM CSV (for the banner's curl example); nil when unreadable.
    static func firstUUID(of path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let data = try? handle.read(upToCount: 64 * 1024), !data.isEmpty else { return nil }
        var parser = DCGMCSVParser(strict: false)
        var uuid: String?
        let bytes = Array(data)
        try? bytes.withUnsafeBytes { raw in
            try parser.feed(raw) { record in if uuid == nil, !record.uuid.isEmpty { uuid = record.uuid } }
        }
        return uuid
    }
}

/// What `telemetry run` prints once the API listens: where everything is and three curl
/// commands that work as pasted.
struct RunBanner {
    var baseURL: String
    var dataDir: String
    var source: String
    var key: RunAPIKey.Resolved?
    var exampleUUID: String?

    var text: String {
        var lines: [String] = []
        lines.append("")
        lines.append("telemetry run: broker, collector, TSDB, API and streamer in one process")
        lines.append("  UI         \(baseURL)/")
        lines.append("  API docs   \(baseURL)/docs")
        lines.append("  data       \(dataDir) (tsdb/, broker/)")
        lines.append("  source     \(source)")
        let header: String
        if let key {
            if let file = key.file {
                lines.append("  API key    \(key.keys[0])")
                lines.append("             \(key.created ? "generated and saved" : "read from") \(file) (mode 0600); set API_KEY to use your own")
                header = "X-API-Key: \(key.keys[0])"
            } else {
                lines.append("  API key    from API_KEY / --api-key (not shown)")
                header = "X-API-Key: $API_KEY"
            }
        } else {
            lines.append("  API key    none: AUTHENTICATION IS DISABLED (--insecure-no-auth)")
            header = ""
        }
        let h = header.isEmpty ? "" : "-H '\(header)' "
        let uuid = exampleUUID ?? "GPU-…"
        lines.append("")
        lines.append("Try:")
        lines.append("  curl -s \(h)'\(baseURL)/api/v1/gpus?limit=5'")
        lines.append("  curl -s \(h)'\(baseURL)/api/v1/gpus/\(uuid)/telemetry?metric=DCGM_FI_DEV_GPU_TEMP&limit=10'")
        lines.append("  curl -s \(h)'\(baseURL)/api/v1/query?metric=DCGM_FI_DEV_POWER_USAGE&agg=max&group_by=Hostname'")
        lines.append("")
        lines.append("Stop with Ctrl-C (SIGINT) or SIGTERM: every role drains and the next start resumes with all data.")
        lines.append("")
        return lines.joined(separator: "\n")
    }
}

/// An exclusive lock on the data directory for the life of the process, so a second
/// `telemetry run` on the same directory fails at once instead of writing beside the first.
enum DataDirLock {
    static func acquire(directory: String) throws -> DirectoryLock {
        do { return try DirectoryLock(directory: directory, fileName: ".lock") } catch { throw RunError(error.description) }
    }
}

/// A failure of `telemetry run` at run time (not a bad flag): printed as "Error: <message>".
struct RunError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
