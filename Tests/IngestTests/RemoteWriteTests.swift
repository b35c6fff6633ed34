import Testing
import TSDB
@testable import Ingest
import TelemetryTestSupport

/// Hand-built protobuf bytes for the remote_write decoder, valid and not.
@Suite("remote_write decoder")
struct RemoteWriteTests {
    static let gpuLabels = [
        Label("DCGM_FI_DRIVER_VERSION", "535.129.03"), Label("Hostname", "node-1"), Label("UUID", "GPU-aaaa"),
        Label("__name__", "DCGM_FI_DEV_GPU_UTIL"), Label("device", "nvidia0"), Label("gpu", "0"),
        Label("instance", "127.0.0.1:9400"), Label("job", "dcgm"), Label("modelName", "NVIDIA H100 80GB HBM3"),
    ]

    static func twoSeries() -> [UInt8] {
        var e = RemoteWriteEncoder()
        e.series(gpuLabels, samples: [(1_752_871_354_000, 7), (1_752_871_355_000, 8.5)])
        e.series([Label("__name__", "up"), Label("instance", "127.0.0.1:9400"), Label("job", "dcgm")], samples: [(1_752_871_354_123, 1)])
        e.metadata(family: "DCGM_FI_DEV_GPU_UTIL", help: "GPU utilization (in %).")
        return e.bytes
    }

    @Test("labels exactly as sent, ms timestamps as ns, metadata counted and skipped")
    func decodesSeries() throws {
        let r = try RemoteWrite.decode(Self.twoSeries())
        #expect(r.seriesCount == 2)
        #expect(r.metadataCount == 1)
        #expect(r.samples.count == 3)
        #expect(r.series.count == 2 && r.seriesOfSample == [0, 0, 1])
        #expect(r.samples[0].labels == Labels(Self.gpuLabels))
        #expect(r.samples[0].labels.count == Self.gpuLabels.count)
        #expect(r.samples.map(\.timestamp) == [1_752_871_354_000_000_000, 1_752_871_355_000_000_000, 1_752_871_354_123_000_000])
        #expect(r.samples.map(\.value) == [7, 8.5, 1])
        #expect(r.samples[2].labels.metric == "up")
    }

    @Test("unsorted labels are sorted, empty values mean no label, NaN and negative times survive")
    func unsortedAndSpecialValues() throws {
        var e = RemoteWriteEncoder()
        let stale = Double(bitPattern: 0x7FF0_0000_0000_0002)  // Prometheus' staleness marker
        e.series([Label("z", "1"), Label("__name__", "m"), Label("a", ""), Label("b", "2")], samples: [(-5, stale), (0, -0.0)])
        let r = try RemoteWrite.decode(e.bytes)
        #expect(r.samples[0].labels == Labels(["__name__": "m", "z": "1", "b": "2"]))
        #expect(r.samples[0].value.bitPattern == stale.bitPattern)
        #expect(r.samples[0].timestamp == -5_000_000)
        #expect(r.samples[1].value.sign == .minus)
    }

    @Test("metadata-only and empty requests hold no samples")
    func metadataOnly() throws {
        var e = RemoteWriteEncoder()
        e.metadata(family: "up", help: "1 if the target is up")
        let r = try RemoteWrite.decode(e.bytes)
        #expect(r.samples.isEmpty && r.series.isEmpty && r.metadataCount == 1)
        #expect(try RemoteWrite.decode([]).samples.isEmpty)
    }

    @Test("exemplars, histograms and unknown fields are skipped and counted")
    func skipsUnknown() throws {
        var ts: [UInt8] = []
        var label: [UInt8] = []
        RemoteWriteEncoder.appendBytes(&label, field: 1, Array("__name__".utf8))
        RemoteWriteEncoder.appendBytes(&label, field: 2, Array("m".utf8))
        RemoteWriteEncoder.appendBytes(&ts, field: 1, label)
        RemoteWriteEncoder.appendBytes(&ts, field: 3, [0x08, 0x01])          // an exemplar
        RemoteWriteEncoder.appendBytes(&ts, field: 4, [0x08, 0x01])          // a native histogram
        RemoteWriteEncoder.appendTag(&ts, field: 9, wire: 5); ts += [1, 2, 3, 4]  // unknown fixed32
        var sample: [UInt8] = []
        RemoteWriteEncoder.appendTag(&sample, field: 2, wire: 0); RemoteWriteEncoder.appendVarint(&sample, 1000)
        RemoteWriteEncoder.appendBytes(&ts, field: 2, sample)                // value absent: 0
        var body: [UInt8] = []
        RemoteWriteEncoder.appendBytes(&body, field: 1, ts)
        RemoteWriteEncoder.appendTag(&body, field: 7, wire: 0); RemoteWriteEncoder.appendVarint(&body, 300)
        let r = try RemoteWrite.decode(body)
        #expect(r.exemplarsSkipped == 1 && r.histogramsSkipped == 1)
        #expect(r.samples.count == 1 && r.samples[0].value == 0 && r.samples[0].timestamp == 1_000_000_000)
    }

    @Test("every truncation of a valid body is refused or decodes a prefix, never crashes")
    func truncations() {
        let body = Self.twoSeries()
        var refused = 0
        for n in 0..<body.count {
            do {
                let r = try RemoteWrite.decode(Array(body[..<n]))
                #expect(r.samples.count <= 3)
            } catch {
                refused += 1
            }
        }
        // Only cuts on a top-level message boundary decode; every other cut is refused.
        #expect(refused >= body.count - 4)
    }

    @Test("varints longer than 64 bits are refused")
    func varintOverflow() {
        // An 11-byte varint as the first tag.
        #expect(throws: RemoteWriteError.varintOverflow(offset: 0)) {
            try RemoteWrite.decode([UInt8](repeating: 0xFF, count: 10) + [0x01])
        }
        // 10 bytes whose last holds more than bit 63.
        #expect(throws: RemoteWriteError.varintOverflow(offset: 0)) {
            try RemoteWrite.decode([UInt8](repeating: 0x80, count: 9) + [0x02])
        }
        // A varint that never ends.
        #expect(throws: RemoteWriteError.truncated(offset: 0, what: "a varint")) {
            try RemoteWrite.decode([0x80, 0x80])
        }
    }

    @Test("a length past its parent message is refused, even when the buffer holds the bytes")
    func lengthPastParent() {
        // TimeSeries of 4 bytes holding a Label that claims 10.
        let body: [UInt8] = [0x0A, 0x04, 0x0A, 0x0A, 0x0A, 0x00] + [UInt8](repeating: 0, count: 20)
        #expect(throws: RemoteWriteError.truncated(offset: 2, what: "Label")) { try RemoteWrite.decode(body) }
        // A length near 2^64 must not wrap.
        var huge: [UInt8] = [0x0A]
        RemoteWriteEncoder.appendVarint(&huge, UInt64.max)
        #expect(throws: RemoteWriteError.truncated(offset: 0, what: "TimeSeries")) { try RemoteWrite.decode(huge) }
    }

    @Test("groups, reserved wire types and field 0 are refused")
    func badWireTypes() {
        #expect(throws: RemoteWriteError.badWireType(offset: 0, field: 1, wireType: 3)) { try RemoteWrite.decode([0x0B, 0x0C]) }
        #expect(throws: RemoteWriteError.badWireType(offset: 0, field: 2, wireType: 7)) { try RemoteWrite.decode([0x17]) }
        #expect(throws: RemoteWriteError.badWireType(offset: 0, field: 0, wireType: 0)) { try RemoteWrite.decode([0x00, 0x00]) }
    }

    @Test("bad label sets: invalid UTF-8, duplicates, no metric name, empty name")
    func badLabels() {
        func body(_ labels: [(String, [UInt8])]) -> [UInt8] {
            var ts: [UInt8] = []
            for (name, value) in labels {
                var l: [UInt8] = []
                RemoteWriteEncoder.appendBytes(&l, field: 1, Array(name.utf8))
                RemoteWriteEncoder.appendBytes(&l, field: 2, value)
                RemoteWriteEncoder.appendBytes(&ts, field: 1, l)
            }
            RemoteWriteEncoder.appendBytes(&ts, field: 2, [0x10, 0x01])
            var out: [UInt8] = []
            RemoteWriteEncoder.appendBytes(&out, field: 1, ts)
            return out
        }
        #expect(throws: RemoteWriteError.self) { try RemoteWrite.decode(body([("__name__", [0xC3, 0x28])])) }
        do {
            _ = try RemoteWrite.decode(body([("__name__", Array("m".utf8)), ("a", [0x31]), ("a", [0x32])]))
            Issue.record("duplicate label accepted")
        } catch {
            #expect("\(error)".contains("\"a\" appears twice"))
        }
        #expect(throws: RemoteWriteError.invalidSeries(series: 0, message: "no __name__ label (the metric name)")) {
            try RemoteWrite.decode(body([("job", Array("x".utf8))]))
        }
        #expect(throws: RemoteWriteError.invalidSeries(series: 0, message: "a label has an empty name")) {
            try RemoteWrite.decode(body([("", Array("x".utf8)), ("__name__", Array("m".utf8))]))
        }
    }

    @Test("limits: labels per series, name and value length, timestamp range")
    func limits() {
        var limits = RemoteWriteLimits()
        limits.maxLabelsPerSeries = 3
        limits.maxLabelValueBytes = 8
        var e = RemoteWriteEncoder()
        e.series((0..<4).map { Label("l\($0)", "v") } + [Label("__name__", "m")], samples: [(1, 1)])
        #expect(throws: RemoteWriteError.self) { try RemoteWrite.decode(e.bytes, limits: limits) }
        var long = RemoteWriteEncoder()
        long.series([Label("__name__", "m"), Label("a", "123456789")], samples: [(1, 1)])
        #expect(throws: RemoteWriteError.limit(series: 0, message: "a label value is longer than 8 bytes (max_label_value_bytes)")) {
            try RemoteWrite.decode(long.bytes, limits: limits)
        }
        var far = RemoteWriteEncoder()
        far.series([Label("__name__", "m")], samples: [(Int64.max / 1000, 1)])
        #expect(throws: RemoteWriteError.timestampOutOfRange(series: 0, millis: Int64.max / 1000)) { try RemoteWrite.decode(far.bytes) }
    }

    @Test("seeded random corruption of valid bodies never crashes the decoder")
    func randomCorruption() {
        let seed: UInt64 = 0x5EED_0010
        var rng = SeededGenerator(seed: seed)
        let base = Self.twoSeries()
        var decoded = 0, refused = 0
        for _ in 0..<5_000 {
            let body = rng.corrupt(base, maxEdits: 4)
            if (try? RemoteWrite.decode(body)) != nil { decoded += 1 } else { refused += 1 }
        }
        #expect(decoded + refused == 5_000, "seed \(seed)")
        #expect(refused > 0, "seed \(seed): corruption was never detected")
    }
}
