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

    @OptionGroup var maxFuture: MaxFutureOption

    @OptionGroup var seriesLimitOptions: SeriesLimitOptions

    /// - Parameter seriesDefaults: the new-series bounds where neither flag nor environment
    ///   sets one (`import` lifts the per-request bound: a file is not a request).
    func tsdbOptions(background: Bool = false, defaultFsync: FsyncPolicy = .batch,
                     seriesDefaults: SeriesLimits = SeriesLimits()) throws -> TSDBOptions {
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
        if let retention = Env.text(retention, "RETENTION") {
            o.retention = try FlagValues.nanoseconds(retention, flag: "--retention (or RETENTION)")
        }
        o.maxFuture = try maxFuture.nanoseconds()
        o.seriesLimits = try seriesLimitOptions.seriesLimits(defaults: seriesDefaults)
        return o
    }
}

extension FsyncPolicy: ExpressibleByArgument {}
