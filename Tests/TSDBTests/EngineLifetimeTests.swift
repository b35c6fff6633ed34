import Foundation
import Testing
@testable import TSDB
import TelemetryTestSupport

/// An engine that is released without ``TSDB/close()``: its WAL writer thread must neither
/// crash the process (it once held its WAL `unowned`, and an engine released before that
/// thread first ran took the process down) nor outlive it holding the data directory.
@Suite("Engine lifetime")
struct EngineLifetimeTests {
    @Test("engines released without close() keep what they acknowledged and free their directory")
    func releasedWithoutClose() async throws {
        let dir = TempDir("released")
        let labels = gpuLabels("UTIL", uuid: "GPU-1", host: "h", gpu: 0)
        for round in 0..<20 {
            let db = try await TSDB.open(options(dir))
            try await db.append([LabeledSample(labels: labels, timestamp: t0 + Int64(round) * sec, value: Double(round))])
        }
        // Opened and released at once, before its writer thread may have run at all.
        for _ in 0..<50 { _ = try await TSDB.open(options(dir)) }
        let db = try await TSDB.open(options(dir))
        let r = try db.query(Query(metric: "UTIL"))
        #expect(r.series.count == 1)
        #expect(r.series.first?.values == (0..<20).map(Double.init))
        try await db.close()
    }
}
