import Foundation
import Primitives
import Testing
import TSDB
@testable import Ingest
import TelemetryTestSupport

/// The sample DCGM export shipped in the repository (a copy of shared/data's).
let sampleCSV: String = {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return root.appendingPathComponent("samples/dcgm_metrics_20250718_134233.csv").path
}()

@Suite("DCGM CSV parser")
struct CSVParserTests {
    @Test("the sample export parses to 2,470 rows of 247 GPUs on 31 hosts")
    func sample() throws {
        var records: [DCGMRecord] = []
        let stats = try DCGMCSVParser.parseFile(path: sampleCSV) { records.append($0) }
        #expect(stats.rows == 2470)
        #expect(stats.samples == 2470)
        #expect(stats.badRows == 0)
        #expect(Set(records.map(\.uuid)).count == 247)
        #expect(Set(records.map(\.hostname)).count == 31)
        #expect(Set(records.map(\.labels)).count == 2470)
        let first = records[0]
        #expect(first.timestamp == RFC3339.parse("2025-07-18T20:42:34Z"))
        #expect(first.metric == "DCGM_FI_DEV_GPU_UTIL")
        #expect(first.labels["UUID"] == "GPU-5fd4f087-86f3-7a43-b711-4771313afc50")
        #expect(first.labels["Hostname"] == "mtv5-dgx1-hgpu-031")
        #expect(first.labels["gpu"] == "0")
        #expect(first.labels["DCGM_FI_DRIVER_VERSION"] == "535.129.03")
        #expect(first.labels["instance"] == "mtv5-dgx1-hgpu-031:9400")
        #expect(first.labels["container"] == nil)   // empty columns are absent, not ""
        #expect(first.labels.metric == "DCGM_FI_DEV_GPU_UTIL")
    }

    @Test("any chunking gives the same rows", arguments: [1, 7, 100, 4096])
    func chunking(size: Int) throws {
        let bytes = [UInt8](FileManager.default.contents(atPath: sampleCSV)!)
        let (whole, _) = try DCGMCSVParser.parse(bytes)
        var parser = DCGMCSVParser()
        var got: [DCGMRecord] = []
        var i = 0
        while i < bytes.count {
            let end = min(bytes.count, i + size)
            try bytes[i..<end].withUnsafeBytes { try parser.feed($0) { got.append($0) } }
            i = end
        }
        try parser.finish { got.append($0) }
        #expect(got == whole)
    }

    @Test("RFC 4180: BOM, CRLF, reordered header, quotes, doubled quotes, embedded newlines and commas")
    func rfc4180() throws {
        let text = "\u{FEFF}value,metric_name,timestamp,uuid,Hostname,gpu_id,device,modelName,container,pod,namespace,labels_raw\r\n"
            + "1.5,M1,2025-07-18T20:42:34.123456789Z,GPU-1,\"host, one\",0,nvidia0,H100,,,,\"a=\"\"x\"\",b=\"\"y,z\"\"\"\r\n"
            + "\"2\",\"M2\",\"2025-07-18T20:42:35+02:00\",\"GPU-\"\"q\"\"\",h2,1,nvidia1,\"multi\nline\",c,p,ns,\r\n"
        let (rows, stats) = try DCGMCSVParser.parse(Array(text.utf8))
        #expect(stats.badRows == 0)
        #expect(rows.count == 2)
        #expect(rows[0].value == 1.5)
        #expect(rows[0].hostname == "host, one")
        #expect(rows[0].timestamp == 1_752_871_354_123_456_789)
        #expect(rows[0].labels["a"] == "x")
        #expect(rows[0].labels["b"] == "y,z")
        #expect(rows[1].uuid == "GPU-\"q\"")
        #expect(rows[1].modelName == "multi\nline")
        #expect(rows[1].timestamp == 1_752_871_355_000_000_000 - 2 * 3600 * 1_000_000_000)
        #expect(rows[1].labels["namespace"] == "ns")
    }

    @Test("blank sentinels are skipped and counted; bad rows are reported with line numbers")
    func badRowsAndBlanks() throws {
        let header = DCGMCSVParser.columns.joined(separator: ",") + "\n"
        let text = header
            + "2025-07-18T20:42:34Z,M,0,nvidia0,GPU-1,H100,h,,,,9223372036854775794,\n"
            + "2025-07-18T20:42:34Z,M,0,nvidia0,GPU-1,H100,h,,,,140737488355328,\n"
            + "not-a-time,M,0,nvidia0,GPU-1,H100,h,,,,1,\n"
            + "2025-07-18T20:42:34Z,M,0,nvidia0,GPU-1,H100,h,,,,abc,\n"
            + "2025-07-18T20:42:34Z,M,0\n"
            + "2025-07-18T20:42:35Z,M,0,nvidia0,GPU-1,H100,h,,,,42,\n"
        let (rows, stats) = try DCGMCSVParser.parse(Array(text.utf8))
        #expect(rows.map(\.value) == [42])
        #expect(stats.rows == 6)
        #expect(stats.blankSkipped == 2)
        #expect(stats.badRows == 3)
        #expect(stats.problems.map(\.line) == [4, 5, 6])
        #expect(throws: DCGMError.strictModeBadRow(line: 4, message: stats.problems[0].message)) {
            try DCGMCSVParser.parse(Array(text.utf8), strict: true)
        }
        #expect(throws: DCGMError.missingColumns(["value"])) {
            try DCGMCSVParser.parse(Array("timestamp,metric_name\n".utf8))
        }
    }

    @Test("the writer's output parses back to the same records")
    func writerRoundTrip() throws {
        var records: [DCGMRecord] = []
        _ = try DCGMCSVParser.parseFile(path: sampleCSV) { records.append($0) }
        var odd = records[0]
        odd.value = 0.1 + 0.2
        odd.hostname = "h\"x\",y"
        odd = DCGMRecord(timestamp: odd.timestamp + 123, metric: odd.metric, gpuID: odd.gpuID, device: odd.device, uuid: odd.uuid,
                         modelName: odd.modelName, hostname: odd.hostname, value: odd.value, labelsRaw: odd.labelsRaw)
        let all = records + [odd]
        let (back, stats) = try DCGMCSVParser.parse(DCGMCSVWriter.document(all))
        #expect(stats.badRows == 0)
        #expect(back == all)
    }

    @Test("numbers parse exactly")
    func numbers() {
        for s in ["0", "-0", "1.5", "0.1", "123.456789", "1e-7", "6.02e23", "-2.5E+3", "9007199254740993", "0.30000000000000004", "1.7976931348623157e308"] {
            #expect(DecimalParser.parse(s)?.bitPattern == Double(s)?.bitPattern, "\(s)")
        }
        #expect(DecimalParser.parse("nan")?.isNaN == true)
        #expect(DecimalParser.parse("") == nil)
        #expect(DecimalParser.parse("1.2.3") == nil)
    }
}

@Suite("DCGM import")
struct ImportTests {
    @Test("importing the sample gives 2,470 samples, 2,470 series, 247 GPUs, 31 hosts")
    func importSample() async throws {
        let dirTemp = TempDir("import")
        let dir = dirTemp.path
        var o = TSDBOptions(directory: dir)
        o.backgroundMaintenance = false
        let db = try await TSDB.open(o)
        let summary = try await DCGMImporter(db: db, batchSize: 500).importFile(path: sampleCSV)
        #expect(summary.appended == 2470)
        #expect(summary.newSeries == 2470)
        let stats = try db.stats()
        #expect(stats.samples == 2470)
        #expect(stats.series == 2470)
        #expect(db.gpus().count == 247)
        #expect(db.hosts().count == 31)
        #expect(db.hosts().first { $0.hostname == "mtv5-dgx1-hgpu-012" }?.gpuCount == 7)
        // Importing again changes nothing (same series, same timestamps: last write wins).
        let again = try await DCGMImporter(db: db).importFile(path: sampleCSV)
        #expect(again.newSeries == 0)
        try await db.flush()
        #expect(try db.stats().samples == 2470)
        let gpu = try db.query(Query(matchers: [try LabelMatcher(parsing: "UUID=GPU-5fd4f087-86f3-7a43-b711-4771313afc50")]))
        #expect(gpu.series.count == 10)
        try await db.close()
        #expect(try TSDB.check(directory: dir).isClean)
    }
}
