import Broker
import Foundation
import Ingest
import Logging
import NIOCore
import Primitives
import TSDB

/// Writes the seed corpus (`FUZZ_WRITE_SEEDS=Fuzz/corpus`, see scripts/fuzz.sh --seeds):
/// small real inputs for every target. Binary seeds come from the real writers: columns from
/// the codecs, WAL records from the WAL encoder, blocks from a database flush, segments and
/// group state from a broker that produced and acked records.
enum SeedWriter {
    static func writeAll(under root: String) throws -> Int {
        var seeds: [String: [[UInt8]]] = [:]
        for (name, texts) in textSeeds() { seeds[name] = texts.map { Array($0.utf8) } }
        seeds["csv", default: []].append(try sampleCSV(lines: 6))
        seeds["timestamps"] = timestampColumns()
        seeds["values"] = valueColumns()
        seeds["column"] = columnFrames()
        seeds["wal"] = walSeeds()
        let (index, chunks) = try blockFiles()
        seeds["blockindex"] = [[1] + index]
        seeds["block"] = [[1, UInt8(index.count & 0xFF), UInt8(index.count >> 8)] + index + chunks]
        seeds["remotewrite"] = remoteWriteSeeds()
        seeds["snappy"] = remoteWriteSeeds().map(Snappy.compress) + [[0]]
        let (segment, groupState) = try brokerFiles()
        seeds["segment"] = [segment]
        seeds["groupstate"] = [groupState]
        seeds["recordframes"] = recordFrameSeeds()
        var written = 0
        for (name, inputs) in seeds {
            let dir = "\(root)/\(name)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for (k, input) in inputs.enumerated() {
                try Data(input).write(to: URL(fileURLWithPath: "\(dir)/seed-\(k + 1)"))
                written += 1
            }
        }
        return written
    }

    static func textSeeds() -> [String: [String]] {
        [
            "csv": [
                "\u{FEFF}timestamp,metric_name,value,uuid\r\n2025-07-18T20:42:34.5Z,DCGM_FI_DEV_POWER_USAGE,312.25,GPU-1\r\n",
                "metric_name,timestamp,value,labels_raw\n\"M\",\"2025-07-18T20:42:34Z\",\"1e3\",\"a=\"\"x,y\"\",b=\"\"z\"\"\"\n",
            ],
            "lineprotocol": [
                "\u{0}gpu,host=a,uuid=GPU-1 util=42i,power=312.5,ok=true 1752871354000000000\n",
                "\u{1}# comment\ncpu,host=a\\ b value=1u,name=\"x\" 1752871354\n\nmem free=2e9\n",
            ],
            "json": [
                #"{"metric":"DCGM_FI_DEV_GPU_UTIL","value":7,"uuid":"GPU-1","time":"2025-07-18T20:42:34Z"}"#,
                #"[{"metric_name":"m","value":"1.5","timestamp":1752871354,"labels":{"a":"b"}},{"metric":"n","value":-0.0}]"#,
                "{\"metric\":\"m\",\"value\":1}\n{\"metric\":\"m\",\"value\":2,\"time\":1752871354000}\n",
            ],
            "prometheus": [
                """
                # HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).
                # TYPE DCGM_FI_DEV_GPU_UTIL gauge
                DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-5fd4f087",device="nvidia0",modelName="NVIDIA H100 80GB HBM3",Hostname="h1"} 17
                DCGM_FI_DEV_POWER_USAGE{gpu="0",UUID="GPU-5fd4f087",label="a\\"b\\\\c\\n"} 312.25 1752871354000
                up NaN
                x{UUID="u"} +Inf

                """,
            ],
            "time": [
                "2025-07-18T20:42:34Z", "2025-07-18 20:42:34.123456789+02:00", "2262-04-11T23:47:16.854775807Z",
                "1677-09-21T00:12:43.145224192Z", "1752871354", "1752871354.25", "1752871354123", "-1.5e3", "0.1", "1e22",
            ],
            "duration": ["30s", "1h30m", "250ms", "1.5s", "2d", "1w", "100us", "0.2", "127.0.0.1:8080", ":0", "metrics=4,events=2"],
            "query": [
                "metric=DCGM_FI_DEV_GPU_UTIL&match[]=%7BHostname%3D%22a%22%2Cgpu%3D~%220%7C1%22%7D&start=2025-07-18T00:00:00Z&end=1752871354&step=1m&limit=10",
                "match=UUID!~\"GPU-1.*\"&match[]={namespace=\"\",pod!=\"x\\\",y\"}&start_time=0&end_time=2262-04-11T23:47:16Z",
                "target=DCGM_FI_DEV_GPU_UTIL{UUID=~\"GPU-(a|b)\"}&step=15s",
            ],
            "recordid": [
                "\u{0}0-42", "\u{3}3-18446744073709551615",
                "\u{5}id: 3-7\nevent: record\ndelivery: 2\ndata: aGVsbG8gd29ybGQ=\n\n: heartbeat\r\n\r\nid: 3-8\ndata: YQ==\ndata: Yg\n\n",
            ],
        ]
    }

    /// The first lines of the DCGM sample shipped in samples/.
    static func sampleCSV(lines: Int) throws -> [UInt8] {
        let here = URL(fileURLWithPath: #filePath)
        let sample = here.deletingLastPathComponent().appendingPathComponent("../../samples/dcgm_metrics_20250718_134233.csv").standardized
        let text = try String(contentsOf: sample, encoding: .utf8)
        return Array(text.split(separator: "\n", omittingEmptySubsequences: false).prefix(lines).joined(separator: "\n").utf8) + [10]
    }

    static let start: Int64 = 1_752_871_354_000_000_000

    static func timestampColumns() -> [[UInt8]] {
        let regular = (0..<64).map { start + Int64($0) * 1_000_000_000 }
        let jittered = (0..<64).map { start + Int64($0) * 1_000_000_000 + Int64(($0 * 7919) % 23) * 1_000_000 }
        let irregular = (0..<40).map { start + Int64($0 * $0) * 999_983 }
        let extremes: [Int64] = [.min, .max, 0, -1, .max, .min + 1]
        return [regular, jittered, irregular, extremes, [start], []].map { TimestampCodec.encode($0) }
    }

    static func valueColumns() -> [[UInt8]] {
        let integers = (0..<64).map { Double(($0 * 37) % 101) }
        let decimals = (0..<64).map { Double(31_225 + ($0 * 13) % 50) / 100 }
        let noisy = (0..<64).map { sin(Double($0)) * 1e3 }
        let special: [Double] = [.nan, .infinity, -.infinity, -0.0, 0, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 1]
        return [integers, decimals, noisy, special, [42, 42, 42], [1.5], []].map { ValueCodec.encode($0) }
    }

    static func columnFrames() -> [[UInt8]] {
        var out: [[UInt8]] = []
        for column in timestampColumns().prefix(2) + valueColumns().prefix(3) {
            for compress in [true, false] {
                var frame: [UInt8] = []
                ColumnFrame.append(column, to: &frame, tryCompression: compress)
                out.append([UInt8(compress ? 1 : 3)] + frame)
            }
        }
        return out
    }

    static func walSeeds() -> [[UInt8]] {
        var batch = SampleBatch(capacity: 40)
        for i in 0..<40 { batch.append(SeriesRef(UInt32(i % 4)), start + Int64(i / 4) * 1_000_000_000, Double(i % 7) * 1.5) }
        var small = SampleBatch(capacity: 2)
        small.append(SeriesRef(9), start, .nan)
        small.append(SeriesRef(9), start + 1, -0.0)
        let records = [WALRecord.encode(batch, compress: true), WALRecord.encode(batch, compress: false), WALRecord.encode(small)]
        var segment = WALSegments.header()
        for r in records { segment += r }
        // A torn tail: half of one more record.
        let torn = WALRecord.encode(small)
        segment += torn.prefix(torn.count / 2)
        return records.map { [0] + $0.dropFirst(WALRecord.headerSize) } + [[1] + segment]
    }

    /// `WriteRequest` bodies as Prometheus sends them (before snappy): DCGM series with their
    /// usual labels, metadata, special values (NaN, the staleness marker, infinities, -0),
    /// unsorted labels and an empty value; and the smallest request.
    static func remoteWriteSeeds() -> [[UInt8]] {
        let startMillis = start / 1_000_000
        var dcgm = RemoteWriteEncoder()
        for gpu in 0..<3 {
            let labels = [Label("__name__", "DCGM_FI_DEV_GPU_UTIL"), Label("Hostname", "h1"), Label("UUID", "GPU-5fd4f087-\(gpu)"),
                          Label("device", "nvidia\(gpu)"), Label("gpu", "\(gpu)"), Label("instance", "10.0.0.1:9400"),
                          Label("job", "dcgm"), Label("modelName", "NVIDIA H100 80GB HBM3")]
            dcgm.series(labels, samples: (0..<4).map { (startMillis + Int64($0) * 15_000, Double(17 + gpu * 10 + $0)) })
        }
        var special = RemoteWriteEncoder()
        special.metadata(family: "DCGM_FI_DEV_POWER_USAGE", help: "Power draw (in W).")
        special.series([Label("__name__", "DCGM_FI_DEV_POWER_USAGE"), Label("UUID", "GPU-1")],
                       samples: [(startMillis, .nan), (startMillis + 1, Double(bitPattern: 0x7FF0_0000_0000_0002)),
                                 (startMillis + 2, .infinity), (startMillis + 3, -0.0), (-1, 312.25)])
        special.series([Label("job", "x"), Label("__name__", "up"), Label("pod", "")], samples: [(startMillis, 1)])
        special.series([Label("__name__", "no_samples")], samples: [])
        var up = RemoteWriteEncoder()
        up.series([Label("__name__", "up")], samples: [(startMillis, 1)])
        return [dcgm.bytes, special.bytes, up.bytes]
    }

    /// The index and chunk files of a block written by a real database flush.
    static func blockFiles() throws -> (index: [UInt8], chunks: [UInt8]) {
        let dir = NSTemporaryDirectory() + "telemetry-fuzz-seeds-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try waitFor {
            var options = TSDBOptions(directory: dir)
            options.fsync = .none
            options.backgroundMaintenance = false
            let db = try await TSDB.open(options, logger: BrokerHarnesses.quiet)
            var samples: [LabeledSample] = []
            for s in 0..<3 {
                let labels = Labels([Labels.metricName: "DCGM_FI_DEV_POWER_USAGE", "UUID": "GPU-\(s)", "Hostname": "h1"])
                for i in 0..<50 { samples.append(LabeledSample(labels: labels, timestamp: start + Int64(i) * 1_000_000_000, value: Double(300 + i % 9) + 0.25 * Double(s))) }
            }
            _ = try await db.append(samples)
            _ = try await db.flush()
            try await db.close()
        }
        let blocks = try FileManager.default.contentsOfDirectory(atPath: "\(dir)/blocks").filter { !$0.hasPrefix(".") }
        guard let id = blocks.first else { throw SeedError("the flush wrote no block") }
        let index = try [UInt8](Data(contentsOf: URL(fileURLWithPath: "\(dir)/blocks/\(id)/\(BlockFormat.indexFile)")))
        let chunks = try [UInt8](Data(contentsOf: URL(fileURLWithPath: "\(dir)/blocks/\(id)/\(BlockFormat.chunksFile)")))
        guard index.count < 1 << 16 else { throw SeedError("seed block index of \(index.count) bytes is too large") }
        return (index, chunks)
    }

    /// Binary consume streams from the real encoder (a selector byte first): heartbeats and
    /// records, one with an empty payload, one carrying a DCGM CSV document, one proxy-tagged id.
    static func recordFrameSeeds() -> [[UInt8]] {
        var a = RecordFrames.heartbeatBuffer
        RecordFrames.append(id: "0-1", deliveryCount: 1, payload: Array("hello".utf8), to: &a)
        a.writeInteger(RecordFrames.heartbeat)
        RecordFrames.append(id: "0-2", deliveryCount: 3, payload: [UInt8](), to: &a)
        var b = ByteBuffer()
        let doc = Array("metric_name,timestamp,value,uuid\nDCGM_FI_DEV_GPU_UTIL,2025-07-18T20:42:34Z,7,GPU-1\n".utf8)
        RecordFrames.append(id: "f00000000000000ab~2-18446744073709551615", deliveryCount: 2, payload: doc, to: &b)
        return [[7] + Array(buffer: a), [40] + Array(buffer: b)]
    }

    /// A partition's segment and a group's state file after a real broker produced, delivered
    /// and acked records.
    static func brokerFiles() throws -> (segment: [UInt8], groupState: [UInt8]) {
        let dir = NSTemporaryDirectory() + "telemetry-fuzz-broker-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try waitFor {
            var config = BrokerConfig(dataDirectory: dir)
            config.fsync = .none
            config.partitionsPerTopic = 1
            config.minFreeBytes = 0
            let broker = try await MessageBroker(config: config, logger: BrokerHarnesses.quiet)
            let payloads = (0..<4).map { Array("\"2025-07-18T20:42:34Z\",\"M\",\"\(String(repeating: "x", count: $0))\"".utf8) }
            _ = try await broker.produce(topic: "metrics", partition: 0, payloads: payloads)
            let delivered = try await broker.poll(topic: "metrics", partition: 0, group: "collector", maxRecords: 3, wait: .zero)
            _ = try await broker.ack(topic: "metrics", partition: 0, group: "collector", ids: Array(delivered.map(\.id).reversed()))
            try await broker.shutdown()
        }
        var segment: [UInt8]?, groupState: [UInt8]?
        let walker = FileManager.default.enumerator(atPath: dir)
        while let path = walker?.nextObject() as? String {
            let full = "\(dir)/\(path)"
            if path.hasSuffix(".log") { segment = try [UInt8](Data(contentsOf: URL(fileURLWithPath: full))) }
            if path.hasSuffix(".state") { groupState = try [UInt8](Data(contentsOf: URL(fileURLWithPath: full))) }
        }
        guard let segment, let groupState else { throw SeedError("the broker left no segment or group state under \(dir)") }
        return (segment, groupState)
    }

    /// Runs async set-up work from the synchronous initializer.
    static func waitFor(_ work: @escaping @Sendable () async throws -> Void) throws {
        final class Outcome: @unchecked Sendable { var error: (any Error)? }
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        Task {
            do { try await work() } catch { outcome.error = error }
            done.signal()
        }
        done.wait()
        if let error = outcome.error { throw error }
    }

    struct SeedError: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }
}
