import ArgumentParser
import Foundation
import TSDB

/// Options every command that opens a data directory shares. Each flag also reads an
/// environment variable (the flag wins).
struct StorageOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "Data directory (env DATA_DIR).")
    var dataDir: String = Env.string("DATA_DIR", "./data")

    @Option(help: "WAL fsync policy: always, batch (group commit) or none (env FSYNC; default batch, for import none — it is durable when it exits).")
    var fsync: FsyncPolicy?

    @Option(name: .customLong("chunk-samples"), help: "Most samples per chunk in new blocks (env CHUNK_SAMPLES).")
    var chunkSamples: Int = Int(Env.string("CHUNK_SAMPLES", "")) ?? TSDBOptions(directory: "").samplesPerChunk

    @Option(name: .customLong("retention"), help: "Delete blocks whose newest sample is older than this behind the wall clock, e.g. 30d (env RETENTION; default: keep everything).")
    var retention: String?

    @Option(name: .customLong("max-future"), help: "Refuse samples more than this far ahead of the clock, e.g. 10m; off accepts any (env MAX_FUTURE; default 10m).")
    var maxFuture: String?

    func tsdbOptions(background: Bool = false, defaultFsync: FsyncPolicy = .batch) throws -> TSDBOptions {
        var o = TSDBOptions(directory: dataDir)
        if let fsync {
            o.fsync = fsync
        } else if let text = Env.string("FSYNC") {
            guard let policy = FsyncPolicy(rawValue: text) else {
                throw ValidationError("FSYNC \"\(text)\" is not one of always, batch, none")
            }
            o.fsync = policy
        } else {
            o.fsync = defaultFsync
        }
        o.backgroundMaintenance = background
        guard (16...65_536).contains(chunkSamples) else { throw ValidationError("--chunk-samples must be between 16 and 65536") }
        o.samplesPerChunk = chunkSamples
        if let retention = retention ?? Env.string("RETENTION") {
            guard let r = DurationParser.parse(retention) else { throw ValidationError("bad retention (--retention or RETENTION) \"\(retention)\"; use e.g. 12h, 30d") }
            o.retention = r
        }
        o.maxFuture = try EngineLimits.maxFuture(maxFuture)
        return o
    }
}

/// The engine bounds the `run`, `api` and storage commands share: `--max-future` and
/// `--query-timeout`, each also read from its environment variable (the flag wins).
enum EngineLimits {
    /// `--max-future` / `MAX_FUTURE`: a duration, or `off`; nil text keeps the default (10 m).
    static func maxFuture(_ flag: String?) throws -> Int64? {
        guard let text = flag ?? Env.string("MAX_FUTURE") else { return TSDBOptions(directory: "").maxFuture }
        if ["off", "none"].contains(text.lowercased()) { return nil }
        guard let d = DurationParser.parse(text) else {
            throw ValidationError("--max-future (or MAX_FUTURE) \"\(text)\" is not a duration; use e.g. 10m, 1h, or off")
        }
        return d
    }

    /// `--query-timeout` / `QUERY_TIMEOUT`: a duration, or `off`; nil text keeps the default (30 s).
    static func queryTimeout(_ flag: String?) throws -> Int64? {
        guard let text = flag ?? Env.string("QUERY_TIMEOUT") else { return TSDBOptions(directory: "").queryTimeout }
        if ["off", "none", "0"].contains(text.lowercased()) { return nil }
        guard let d = DurationParser.parse(text), d > 0 else {
            throw ValidationError("--query-timeout (or QUERY_TIMEOUT) \"\(text)\" is not a duration; use e.g. 30s, 2m, or off")
        }
        return d
    }
}

extension FsyncPolicy: ExpressibleByArgument {}

enum Env {
    static func string(_ name: String) -> String? {
        guard let v = ProcessInfo.processInfo.environment[name], !v.isEmpty else { return nil }
        return v
    }

    static func string(_ name: String, _ fallback: String) -> String { string(name) ?? fallback }
}

/// Durations like `500ms`, `15s`, `1m`, `2h`, `7d`, `1w`, or plain seconds (`90`, `0.5`),
/// as nanoseconds.
enum DurationParser {
    static func parse(_ text: String) -> Int64? {
        let s = text.trimmingCharacters(in: .whitespaces)
        let units: [(String, Double)] = [("ns", 1), ("us", 1e3), ("µs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9), ("d", 86400e9), ("w", 604800e9)]
        for (suffix, scale) in units where s.hasSuffix(suffix) {
            let number = s.dropLast(suffix.count)
            if let v = Double(number), v.isFinite, v >= 0 { return Int64(v * scale) }
        }
        if let v = Double(s), v.isFinite, v >= 0 { return Int64(v * 1e9) }
        return nil
    }
}

/// Points in time: RFC 3339, or epoch seconds / milliseconds / microseconds / nanoseconds
/// told apart by magnitude, or `now`, `now-1h`.
enum TimeParser {
    static func parse(_ text: String, now: Int64 = Int64(Date().timeIntervalSince1970 * 1e9)) -> Int64? {
        let s = text.trimmingCharacters(in: .whitespaces)
        if s == "now" { return now }
        if s.hasPrefix("now-"), let d = DurationParser.parse(String(s.dropFirst(4))) { return now - d }
        if let t = RFC3339Bridge.parse(s) { return t }
        if let v = Int64(s) {
            switch v.magnitude {
            case ..<100_000_000_000: return v * 1_000_000_000          // seconds
            case ..<100_000_000_000_000: return v * 1_000_000           // milliseconds
            case ..<100_000_000_000_000_000: return v * 1_000           // microseconds
            default: return v                                           // nanoseconds
            }
        }
        if let v = Double(s), v.isFinite { return Int64(v * 1e9) }
        return nil
    }
}
