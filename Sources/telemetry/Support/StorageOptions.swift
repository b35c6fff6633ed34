import ArgumentParser
import Foundation
import Primitives
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

    @OptionGroup var seriesLimitOptions: SeriesLimitOptions

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
            o.retention = try FlagValues.nanoseconds(retention, flag: "--retention (or RETENTION)")
        }
        o.maxFuture = try EngineLimits.maxFuture(maxFuture)
        o.seriesLimits = try seriesLimitOptions.seriesLimits()
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
        return try FlagValues.nanoseconds(text, flag: "--max-future (or MAX_FUTURE; off accepts any timestamp)")
    }

    /// `--query-timeout` / `QUERY_TIMEOUT`: a duration, or `off`; nil text keeps the default (30 s).
    static func queryTimeout(_ flag: String?) throws -> Int64? {
        guard let text = flag ?? Env.string("QUERY_TIMEOUT") else { return TSDBOptions(directory: "").queryTimeout }
        if ["off", "none", "0"].contains(text.lowercased()) { return nil }
        return try FlagValues.nanoseconds(text, flag: "--query-timeout (or QUERY_TIMEOUT; off disables it)", positive: true)
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
