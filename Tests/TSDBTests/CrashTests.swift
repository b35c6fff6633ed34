import Foundation
import Testing
@testable import TSDB

/// Kills a real writer process (`telemetry debug-append`, fsync=always) at random moments
/// and proves that every batch it acknowledged is there afterwards and `check` is clean.
@Suite("Crash", .serialized)
struct CrashTests {
    static var binary: String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/telemetry").path
    }

    @Test("kill -9 during fsync=always writes loses no acknowledged sample", arguments: [UInt64(1), 2])
    func killNine(seed: UInt64) async throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.binary), "build the binary first: swift build --build-tests")
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else { return }
        var g = SeededGenerator(seed: seed)
        let dir = TempDir("crash")
        var acked = -1
        for round in 0..<4 {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: Self.binary)
            p.arguments = ["debug-append", "--data-dir", dir.path, "--fsync", "always", "--series", "16", "--samples", "50"]
            let out = Pipe()
            p.standardOutput = out
            p.standardError = FileHandle.nullDevice
            try p.run()
            let target = Int.random(in: 3...40, using: &g)
            var seen = 0
            var buffer = ""
            let handle = out.fileHandleForReading
            let deadline = Date().addingTimeInterval(60)
            while seen < target, Date() < deadline {
                let data = handle.availableData
                if data.isEmpty { break }
                buffer += String(decoding: data, as: UTF8.self)
                while let nl = buffer.firstIndex(of: "\n") {
                    let line = buffer[..<nl]
                    buffer = String(buffer[buffer.index(after: nl)...])
                    if line.hasPrefix("ack "), let n = Int(line.dropFirst(4)) { acked = max(acked, n); seen += 1 }
                }
            }
            // Let it run a little further into its next writes, then kill it mid-flight.
            usleep(UInt32.random(in: 0...30_000, using: &g))
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            // Acks printed before the kill were durable when printed.
            buffer += String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
            for line in buffer.split(separator: "\n") where line.hasPrefix("ack ") {
                if let n = Int(line.dropFirst(4)) { acked = max(acked, n) }
            }
            #expect(acked >= 0, "round \(round): the writer acknowledged nothing")
        }
        let db = try await TSDB.open(options(dir, fsync: .always))
        let r = try db.query(Query(metric: "crash_test"))
        #expect(r.series.count == 16)
        for s in r.series {
            let k = Int64(s.labels["series"]!)!
            let need = Int64((acked + 1) * 50)
            #expect(s.timestamps.count >= Int(need), "series \(k) has \(s.timestamps.count) samples, \(need) were acknowledged")
            for i in 0..<min(Int(need), s.timestamps.count) {
                #expect(s.timestamps[i] == Int64(i) * sec)
                #expect(s.values[i] == Double(Int64(i) * 1000 + k))
            }
        }
        try await db.close()
        let report = try TSDB.check(directory: dir.path)
        #expect(report.isClean, "\(report.problems)")
    }
}
