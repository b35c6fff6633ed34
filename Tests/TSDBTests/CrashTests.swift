import Foundation
import Primitives
import Testing
@testable import TSDB
import TelemetryTestSupport

/// Kills a real writer process (`telemetry-debug-append`, a test-only executable) at random moments, and exactly
/// inside a seal or a compaction (`--crash-at`, the child SIGKILLs itself there), and proves
/// that every batch it acknowledged is there afterwards and `check` is clean.
@Suite("Crash", .serialized)
struct CrashTests {
    static var binary: String { TestPaths.debugAppend }

    /// Runs one writer until it printed `target` acks (or died by itself at its crash point),
    /// waits up to `extraMicros`, kills it with SIGKILL and returns the highest batch acked
    /// and whether it had died by itself before that kill. The reads of the child's output and
    /// the wait for its exit block, so they run on a Dispatch thread: on one of the
    /// cooperative pool's threads (two on a 2-core machine) they would stall every other test
    /// of the process, and the servers those tests run, for the whole round.
    static func crashRound(_ dir: TempDir, fsync: String, crashAt: String?, series: Int = 16, target: Int,
                           within seconds: TimeInterval = 60, pauseMs: Int = 0, extraMicros: UInt32) async throws -> (acked: Int, selfKilled: Bool) {
        try await offPool {
            try blockingCrashRound(dir, fsync: fsync, crashAt: crashAt, series: series, target: target,
                                   within: seconds, pauseMs: pauseMs, extraMicros: extraMicros)
        }
    }

    private static func blockingCrashRound(_ dir: TempDir, fsync: String, crashAt: String?, series: Int, target: Int,
                                           within seconds: TimeInterval, pauseMs: Int, extraMicros: UInt32) throws -> (acked: Int, selfKilled: Bool) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["--data-dir", dir.path, "--fsync", fsync, "--series", String(series), "--samples", "50", "--pause-ms", String(pauseMs),
                       "--compaction-window", pauseMs > 0 ? "50000" : "2000"]
            + (crashAt.map { ["--crash-at", $0] } ?? [])
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        var acked = -1, seen = 0
        var buffer = ""
        let handle = out.fileHandleForReading
        let deadline = Date().addingTimeInterval(seconds)
        while seen < target, Date() < deadline {
            let data = handle.availableData
            if data.isEmpty { break }   // the child died (at its crash point)
            buffer += String(decoding: data, as: UTF8.self)
            while let nl = buffer.firstIndex(of: "\n") {
                let line = buffer[..<nl]
                buffer = String(buffer[buffer.index(after: nl)...])
                if line.hasPrefix("ack "), let n = Int(line.dropFirst(4)) { acked = max(acked, n); seen += 1 }
            }
        }
        // Let it run a little further into its next writes, then kill it mid-flight.
        usleep(extraMicros)
        let selfKilled = !p.isRunning
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        // Acks printed before the kill were durable when printed.
        buffer += String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        for line in buffer.split(separator: "\n") where line.hasPrefix("ack ") {
            if let n = Int(line.dropFirst(4)) { acked = max(acked, n) }
        }
        return (acked, selfKilled)
    }

    /// Every series holds at least the acknowledged batches, in order, with their values.
    static func expectAcknowledged(_ dir: TempDir, acked: Int, series: Int = 16, _ what: String) async throws {
        let db = try await TSDB.open(options(dir, fsync: .batch))
        let r = try db.query(Query(metric: CrashWriterFixture.metric))
        #expect(r.series.count == series, "\(what): \(r.series.count) series")
        for s in r.series {
            let k = Int64(s.labels["series"] ?? "") ?? -1
            let need = (acked + 1) * 50
            #expect(s.timestamps.count >= need, "\(what): series \(k) has \(s.timestamps.count) samples, \(need) were acknowledged")
            for i in 0..<min(need, s.timestamps.count)
                where s.timestamps[i] != CrashWriterFixture.timestamp(Int64(i)) || s.values[i] != CrashWriterFixture.value(second: Int64(i), series: Int(k)) {
                Issue.record("\(what): series \(k) sample \(i) is \(s.timestamps[i]) = \(s.values[i])")
                break
            }
        }
        try await db.close()
    }

    @Test("kill -9 during fsync=always writes loses no acknowledged sample", arguments: [UInt64(1), 2])
    func killNine(seed: UInt64) async throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.binary), "build the binary first: swift build --build-tests")
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else { return }
        var g = SeededGenerator(seed: seed)
        let dir = TempDir("crash")
        var acked = -1
        for round in 0..<4 {
            let target = Int.random(in: 3...40, using: &g)
            acked = max(acked, try await Self.crashRound(dir, fsync: "always", crashAt: nil, target: target,
                                                   extraMicros: UInt32.random(in: 0...30_000, using: &g)).acked)
            #expect(acked >= 0, "round \(round): the writer acknowledged nothing")
        }
        try await Self.expectAcknowledged(dir, acked: acked, "after 4 kills")
        let report = try TSDB.check(directory: dir.path)
        #expect(report.isClean, "\(report.problems)")
    }

    /// fsync=batch acknowledges an append once its group commit is fsynced. Rounds cycle
    /// through a random kill, a crash inside a seal (block written, not registered) and a
    /// crash inside a compaction (catalog swapped, inputs not unlinked); every round is
    /// followed by `check` and the acknowledged-data check. TELEMETRY_LONG_TESTS=1: 200 rounds.
    @Test("20 kill -9s under fsync=batch, inside seals and compactions, lose nothing acknowledged")
    func killNineBatchSealCompaction() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.binary), "build the binary first: swift build --build-tests")
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else { return }
        let rounds = ProcessInfo.processInfo.environment["TELEMETRY_LONG_TESTS"] == "1" ? 200 : 20
        var g = SeededGenerator(seed: 9)
        let dir = TempDir("crash-batch")
        let points: [String?] = [nil, "seal-catalog", "compaction", "seal"]
        var acked = -1
        var crashedAt: [String: Int] = [:]
        for round in 0..<rounds {
            let point = points[round % points.count]
            // At a crash point the child dies by itself once a seal (within ~1 s) or a
            // compaction runs; the deadline only bounds a round that never got there.
            let target = point == nil ? Int.random(in: 2...12, using: &g) : Int.max
            let r = try await Self.crashRound(dir, fsync: "batch", crashAt: point, series: 4, target: target, within: 3, pauseMs: 5,
                                        extraMicros: UInt32.random(in: 0...20_000, using: &g))
            acked = max(acked, r.acked)
            if let point, r.selfKilled { crashedAt[point, default: 0] += 1 }
            let what = "round \(round) (\(point ?? "random kill"))"
            #expect(acked >= 0, "\(what): the writer acknowledged nothing")
            let report = try TSDB.check(directory: dir.path)
            #expect(report.isClean, "\(what): \(report.problems)")
            try await Self.expectAcknowledged(dir, acked: acked, series: 4, what)
        }
        // The crash points were really reached, not only killed around.
        for point in points.compactMap({ $0 }) {
            #expect(crashedAt[point, default: 0] >= 1, "the writer never crashed at \(point): \(crashedAt)")
        }
    }
}
