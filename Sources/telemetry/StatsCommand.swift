import ArgumentParser
import Foundation
import Primitives
import TSDB

struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Show series, samples, time range and bytes on disk of a data directory.")

    @OptionGroup var storage: StorageOptions

    @Flag(help: "Print JSON (keys series, samples, head_samples, blocks, min_time, max_time, bytes_blocks, bytes_wal, bytes_catalog, bytes_total, bytes_per_sample).")
    var json = false

    func run() async throws {
        let db = try await TSDB.open(try storage.tsdbOptions())
        let s = try db.stats()
        try await db.close()
        if json {
            var fields = [
                "\"series\": \(s.series)", "\"samples\": \(s.samples)", "\"head_samples\": \(s.headSamples)",
                "\"blocks\": \(s.blocks)",
                "\"min_time\": \(s.minTime.map { JSONFormat.quoted(RFC3339.format($0)) } ?? "null")",
                "\"max_time\": \(s.maxTime.map { JSONFormat.quoted(RFC3339.format($0)) } ?? "null")",
            ]
            fields += ["\"bytes_blocks\": \(s.bytesBlocks)", "\"bytes_wal\": \(s.bytesWAL)", "\"bytes_catalog\": \(s.bytesCatalog)",
                       "\"bytes_total\": \(s.bytesTotal)", "\"bytes_per_sample\": \(JSONFormat.number((s.bytesPerSample * 10000).rounded() / 10000))"]
            print("{" + fields.joined(separator: ", ") + "}")
        } else {
            print("series:           \(s.series)")
            print("samples:          \(s.samples) (\(s.headSamples) in the head)")
            print("blocks:           \(s.blocks)")
            print("time range:       \(s.minTime.map(RFC3339.format) ?? "-") … \(s.maxTime.map(RFC3339.format) ?? "-")")
            print("bytes on disk:    \(s.bytesTotal) (blocks \(s.bytesBlocks), WAL \(s.bytesWAL), catalog \(s.bytesCatalog))")
            print("bytes per sample: \(String(format: "%.4f", s.bytesPerSample))")
        }
    }
}
