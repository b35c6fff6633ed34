import Benchmark
import Foundation
import Ingest

/// DCGM CSV parsing, the import and streamer path.
func csvBenchmarks() {
    Benchmark("DCGM CSV parse (sample file, rows)",
              configuration: .init(metrics: [.throughput, .wallClock], scalingFactor: .one)) { b in
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("samples/dcgm_metrics_20250718_134233.csv").path
        guard let data = FileManager.default.contents(atPath: path) else { return }
        let bytes = [UInt8](data)
        for _ in b.scaledIterations {
            var parser = DCGMCSVParser()
            var n = 0
            bytes.withUnsafeBytes { raw in try? parser.feedRows(raw) { row in n &+= Int(row.timestamp & 1) } }
            try? parser.finishRows { _ in }
            blackHole(n)
        }
    }
}
