import ArgumentParser
import Foundation
import Primitives
import TSDB

/// Test support for the crash test: appends batches forever and prints `ack N` after each
/// append returns (that is, after it is durable under the fsync policy), so a test can
/// `kill -9` it at any moment and prove every acknowledged batch survived.
struct DebugAppendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "debug-append",
        abstract: "Append deterministic batches and acknowledge each on stdout (for crash tests).",
        shouldDisplay: false)

    @OptionGroup var storage: StorageOptions

    @Option(help: "Series written by every batch.")
    var series: Int = 16

    @Option(help: "Samples per series per batch.")
    var samples: Int = 50

    @Option(help: "Stop after this many batches (0: never).")
    var batches: Int = 0

    func run() async throws {
        var o = try storage.tsdbOptions(background: true)
        o.blockDuration = 200 * Nanos.second   // seal often, so kills also land mid-block-write
        o.compactedBlockDuration = 2_000 * Nanos.second
        let db = try await TSDB.open(o)
        let refs = try db.resolve((0..<series).map { Labels(["__name__": "crash_test", "series": String($0)]) })
        // Continue after what an earlier (killed) run acknowledged.
        let existing = try db.query(Query(metric: "crash_test")).series.map { $0.timestamps.last ?? 0 }.max() ?? 0
        var batch = existing == 0 ? 0 : Int((existing / Nanos.second + 1) / Int64(samples))
        while batches == 0 || batch < batches {
            var b = SampleBatch(capacity: series * samples)
            for (k, r) in refs.enumerated() {
                for i in 0..<samples {
                    let t = Int64(batch * samples + i)
                    b.append(r, t * Nanos.second, Double(t * 1000 + Int64(k)))
                }
            }
            try await db.append(b)
            FileHandle.standardOutput.write(Data("ack \(batch)\n".utf8))
            batch += 1
        }
        try await db.close()
    }
}
