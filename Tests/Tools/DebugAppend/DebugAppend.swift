import ArgumentParser
import Foundation
import Primitives
import TelemetryTestSupport
import TSDB

/// The crash tests' writer, a test-only executable (never a product, never in the image):
/// appends deterministic batches (``CrashWriterFixture``) forever and prints `ack N` after each
/// append returns, that is after it is durable under the fsync policy, so a test can `kill -9`
/// it at any moment and prove every acknowledged batch survived.
@main
struct DebugAppend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "telemetry-debug-append",
        abstract: "Append deterministic batches and acknowledge each on stdout (for the crash tests).")

    @Option(name: .customLong("data-dir"), help: "Data directory of the TSDB.")
    var dataDir: String

    @Option(help: "WAL fsync policy: always, batch or none.")
    var fsync: String = "batch"

    @Option(help: "Series written by every batch.")
    var series: Int = 16

    @Option(help: "Samples per series per batch.")
    var samples: Int = 50

    @Option(help: "Stop after this many batches (0: never).")
    var batches: Int = 0

    @Option(help: "Kill this process with SIGKILL the first time this point inside the engine is reached (seal, seal-catalog, compaction, retention).")
    var crashAt: String?

    @Option(help: "Sleep this many milliseconds after each acknowledged batch (keeps crash-test data small).")
    var pauseMs: Int = 0

    @Option(help: "Compaction window in seconds of sample time (a fast writer needs a wide one to compact).")
    var compactionWindow: Int64 = 2_000

    func validate() throws {
        guard FsyncPolicy(rawValue: fsync) != nil else { throw ValidationError("--fsync must be always, batch or none") }
        guard series > 0, samples > 0 else { throw ValidationError("--series and --samples must be at least 1") }
        if let crashAt, FaultPoint(rawValue: crashAt) == nil {
            throw ValidationError("--crash-at must be one of \(FaultPoint.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() async throws {
        var o = TSDBOptions(directory: dataDir)
        o.fsync = FsyncPolicy(rawValue: fsync) ?? .batch
        o.backgroundMaintenance = true
        o.blockDuration = 200 * Nanos.second   // seal often, so kills also land mid-block-write
        o.compactedBlockDuration = compactionWindow * Nanos.second
        let db = try await TSDB.open(o)
        if let point = crashAt.flatMap(FaultPoint.init(rawValue:)) { db.faults.arm(point, .crash) }
        let refs = try db.resolve(CrashWriterFixture.labels(series: series).map { Labels($0) })
        // Continue after what an earlier (killed) run acknowledged.
        let newest = try db.query(Query(metric: CrashWriterFixture.metric)).series.map { $0.timestamps.last ?? 0 }.max() ?? 0
        var batch = CrashWriterFixture.nextBatch(afterNewest: newest, samples: samples)
        while batches == 0 || batch < batches {
            var b = SampleBatch(capacity: series * samples)
            for (k, r) in refs.enumerated() {
                for i in 0..<samples {
                    let t = Int64(batch * samples + i)
                    b.append(r, CrashWriterFixture.timestamp(t), CrashWriterFixture.value(second: t, series: k))
                }
            }
            try await db.append(b)
            FileHandle.standardOutput.write(Data("ack \(batch)\n".utf8))
            batch += 1
            if pauseMs > 0 { try await Task.sleep(for: .milliseconds(pauseMs)) }
        }
        try await db.close()
    }
}
