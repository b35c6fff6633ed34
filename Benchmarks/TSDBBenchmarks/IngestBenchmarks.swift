import Benchmark
import Foundation
import Ingest
import TSDB

/// Network ingest (issue 13): 5,000 lines of DCGM line protocol (1,536 series, the bench data's
/// shape) parsed in place into a batch with every series already cached — the write routes'
/// work before `db.append`. Throughput reads as bodies/s; × 5,000 = lines/s.
func ingestBenchmarks() {
    Benchmark("Line protocol parse to batch (5,000 lines, cached series)",
              configuration: .init(metrics: [.throughput, .wallClock, .mallocCountTotal], scalingFactor: .one, maxDuration: .seconds(5))) { b in
        let dir = NSTemporaryDirectory() + "/bench-lp-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var o = TSDBOptions(directory: dir)
        o.backgroundMaintenance = false
        guard let db = try? await TSDB.open(o) else { return }
        let t0: Int64 = 1_736_121_600_000
        let lines = (0..<5_000).map { i -> String in
            let s = i % 1536, gpu = s / 12
            return "DCGM_FI_DEV_M\(s % 12),Hostname=gpu-node-\(gpu / 8),device=nvidia\(gpu % 8),gpu_id=\(gpu % 8),"
                + "modelName=NVIDIA\\ H100\\ 80GB\\ HBM3,namespace=ml,pod=train-\(gpu / 8),uuid=GPU-\(gpu)-ba4159d2-b0ed-ec0e-bb3e "
                + "value=\(i % 97) \(t0 + Int64(i / 1536) * 1000)\n"
        }
        let body = Array(lines.joined().utf8)
        let builder = LineProtocolBatchBuilder()
        guard var warm = try? builder.parse(body, precision: .ms, now: 0), (try? builder.seal(&warm, db: db)) != nil else { return }
        b.startMeasurement()
        for _ in b.scaledIterations {
            guard var parsed = try? builder.parse(body, precision: .ms, now: 0) else { return }
            blackHole((try? builder.seal(&parsed, db: db))?.count ?? 0)
        }
        b.stopMeasurement()
        try? await db.close()
    }
}
