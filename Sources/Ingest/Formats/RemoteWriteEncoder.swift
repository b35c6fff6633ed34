import TSDB

/// Builds `prometheus.WriteRequest` protobuf bytes: the marshal half of ``RemoteWrite``'s
/// decoder, for tests, tools and benchmarks that play a remote_write sender.
///
/// ```swift
/// var e = RemoteWriteEncoder()
/// e.series([Label("__name__", "up")], samples: [(1_752_871_354_000, 1)])
/// let body = Snappy.compress(e.bytes)
/// ```
package struct RemoteWriteEncoder {
    package private(set) var bytes: [UInt8] = []

    package init() {}

    /// One `TimeSeries` (field 1) with labels in the given order and (ms, value) samples.
    package mutating func series(_ labels: [Label], samples: [(Int64, Double)]) {
        var ts: [UInt8] = []
        for label in labels {
            var l: [UInt8] = []
            Self.appendBytes(&l, field: 1, Array(label.name.utf8))
            Self.appendBytes(&l, field: 2, Array(label.value.utf8))
            Self.appendBytes(&ts, field: 1, l)
        }
        for (millis, value) in samples {
            var s: [UInt8] = []
            Self.appendTag(&s, field: 1, wire: 1)
            var bits = value.bitPattern
            for _ in 0..<8 { s.append(UInt8(truncatingIfNeeded: bits)); bits >>= 8 }
            Self.appendTag(&s, field: 2, wire: 0)
            Self.appendVarint(&s, UInt64(bitPattern: millis))
            Self.appendBytes(&ts, field: 2, s)
        }
        Self.appendBytes(&bytes, field: 1, ts)
    }

    /// One `MetricMetadata` (field 3): type, family name, help, unit.
    package mutating func metadata(family: String, help: String, type: UInt64 = 2) {
        var m: [UInt8] = []
        Self.appendTag(&m, field: 1, wire: 0)
        Self.appendVarint(&m, type)
        Self.appendBytes(&m, field: 2, Array(family.utf8))
        Self.appendBytes(&m, field: 4, Array(help.utf8))
        Self.appendBytes(&bytes, field: 3, m)
    }

    package static func appendTag(_ out: inout [UInt8], field: UInt64, wire: UInt64) {
        appendVarint(&out, field << 3 | wire)
    }

    package static func appendVarint(_ out: inout [UInt8], _ value: UInt64) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    package static func appendBytes(_ out: inout [UInt8], field: UInt64, _ payload: [UInt8]) {
        appendTag(&out, field: field, wire: 2)
        appendVarint(&out, UInt64(payload.count))
        out.append(contentsOf: payload)
    }
}
