import Foundation
import Ingest

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
        // Sources/telemetry/Support/<this file> → the repository root.
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
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
