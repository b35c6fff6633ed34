import Foundation
import TelemetryTestSupport
import Testing

/// `telemetry import` of a large fleet's export: its first batches create more new series than
/// the per-request bound a server applies (100,000), which does not apply to an import unless
/// asked for.
@Suite("Import command")
struct ImportCommandTests {
    /// One timestamp of 10,001 GPUs × 10 metrics: 100,010 series in one file.
    static func fleetCSV(at path: String) throws {
        var text = "timestamp,metric_name,gpu_id,device,uuid,modelName,Hostname,container,pod,namespace,value,labels_raw\n"
        text.reserveCapacity(16_000_000)
        for g in 0..<10_001 {
            let uuid = String(format: "GPU-%08x-0000-0000-0000-000000000000", g)
            for m in 0..<10 {
                text += "\"2025-07-18T20:42:34Z\",\"DCGM_FI_DEV_M\(m)\",\"\(g % 8)\",\"nvidia\(g % 8)\",\"\(uuid)\",\"NVIDIA H100 80GB HBM3\",\"host-\(g / 8)\",\"\",\"\",\"\",\"\(m)\",\"\"\n"
            }
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    @Test("an import creates 100,010 series from one file by default; the flag still bounds it")
    func importLiftsThePerRequestBound() async throws {
        let dir = TempDir("import-fleet")
        let csv = dir.path + "/fleet.csv"
        try Self.fleetCSV(at: csv)

        let bounded = try ChildProcess.start("import", TestPaths.telemetry,
                                             ["import", "--quiet", "--data-dir", dir.path + "/bounded", "--max-new-series-per-request", "50000", csv])
        #expect(await bounded.wait(timeout: .seconds(300)) == 1, "\(bounded.log)")
        #expect(bounded.log.contains("--max-new-series-per-request"), "\(bounded.log)")

        let child = try ChildProcess.start("import", TestPaths.telemetry, ["import", "--quiet", "--data-dir", dir.path + "/data", csv])
        #expect(await child.wait(timeout: .seconds(300)) == 0, "\(child.log)")
        #expect(child.log.contains("100010 rows, 100010 samples imported, 100010 new series"), "\(child.log)")
    }
}
