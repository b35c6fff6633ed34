import TSDB

/// A remote_write body that is not a valid `prometheus.WriteRequest`; `offset` is the byte
/// offset in the decompressed protobuf.
package enum RemoteWriteError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A field runs past the end of its message.
    case truncated(offset: Int, what: String)
    /// A varint is longer than 10 bytes or does not fit 64 bits.
    case varintOverflow(offset: Int)
    /// A wire type this message cannot hold (groups, or a reserved type).
    case badWireType(offset: Int, field: UInt64, wireType: UInt64)
    /// A label name or value is not valid UTF-8.
    case invalidUTF8(offset: Int, what: String)
    /// Series `series` (0-based) is not a valid label set.
    case invalidSeries(series: Int, message: String)
    /// Series `series` breaks a configured bound (labels per series, name or value length).
    case limit(series: Int, message: String)
    /// A sample's millisecond timestamp does not fit Int64 nanoseconds.
    case timestampOutOfRange(series: Int, millis: Int64)

    package var description: String {
        switch self {
        case .truncated(let o, let what): return "remote_write: \(what) at byte \(o) runs past the end of its message (truncated body?)"
        case .varintOverflow(let o): return "remote_write: the varint at byte \(o) does not fit 64 bits"
        case .badWireType(let o, let f, let t): return "remote_write: field \(f) at byte \(o) has wire type \(t), which a WriteRequest never uses"
        case .invalidUTF8(let o, let what): return "remote_write: the \(what) at byte \(o) is not valid UTF-8"
        case .invalidSeries(let s, let m): return "remote_write: series \(s): \(m)"
        case .limit(let s, let m): return "remote_write: series \(s): \(m)"
        case .timestampOutOfRange(let s, let ms):
            return "remote_write: series \(s): timestamp \(ms) ms is outside the range of nanosecond timestamps"
        }
    }
}

/// Bounds on one remote_write request's series (the decoded body size is bounded before this,
/// by the snappy header check).
package struct RemoteWriteLimits: Sendable, Equatable {
    package var maxLabelsPerSeries = 128
    package var maxLabelNameBytes = 1_024
    package var maxLabelValueBytes = 16_384
    package init() {}
}

/// A decoded `prometheus.WriteRequest` (remote_write 1.0), column-oriented so a writer
/// resolves each series once: sample `i` is (`series[seriesOfSample[i]]`, `timestamps[i]`,
/// `values[i]`). Timestamps are converted from milliseconds to nanoseconds; labels are
/// exactly as sent (`__name__` included).
package struct RemoteWriteRequest: Sendable {
    /// The label sets of the series that carry samples, in request order.
    package var series: [Labels] = []
    package var seriesOfSample: [Int] = []
    package var timestamps: [Int64] = []
    package var values: [Double] = []
    package var sampleCount: Int { timestamps.count }
    /// Every sample with its labels (the convenient, slower form).
    package var samples: [LabeledSample] {
        timestamps.indices.map { LabeledSample(labels: series[seriesOfSample[$0]], timestamp: timestamps[$0], value: values[$0]) }
    }
    /// Time series messages in the request (with or without samples).
    package var seriesCount = 0
    /// `MetricMetadata` entries, skipped (we keep no metadata).
    package var metadataCount = 0
    /// Exemplars and native histograms, skipped (not stored: this engine keeps float samples).
    package var exemplarsSkipped = 0
    package var histogramsSkipped = 0
}

/// A hand-written decoder for the few messages of Prometheus' remote_write 1.0 protocol,
/// straight from the protobuf bytes:
///
/// ```
/// WriteRequest { repeated TimeSeries timeseries = 1; repeated MetricMetadata metadata = 3; }
/// TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2;
///                repeated Exemplar exemplars = 3; repeated Histogram histograms = 4; }
/// Label        { string name = 1; string value = 2; }
/// Sample       { double value = 1; int64 timestamp = 2; }   // timestamp in ms
/// ```
///
/// It is bounded: every length is checked against what remains of its message, varints are
/// overflow-checked, unknown fields are skipped without being parsed, so nesting never goes
/// deeper than the three levels above, and groups (wire types 3, 4) are refused.
///
/// ```swift
/// let request = try RemoteWrite.decode(try Snappy.decompress(body, limit: 64 << 20))
/// ```
package enum RemoteWrite {
    package static func decode(_ bytes: [UInt8], limits: RemoteWriteLimits = RemoteWriteLimits()) throws(RemoteWriteError) -> RemoteWriteRequest {
        var out = RemoteWriteRequest()
        (out.seriesCount, out.metadataCount) = try walk(bytes) { (sub, index) throws(RemoteWriteError) in
            try decodeSeries(sub, index: index, limits: limits, into: &out)
        }
        return out
    }

    /// Walks a `WriteRequest`: `series` gets each `TimeSeries` message with its index;
    /// `MetricMetadata` messages are counted, unknown fields skipped. Returns both counts.
    static func walk(_ bytes: [UInt8], series: (ProtoReader, Int) throws(RemoteWriteError) -> Void)
        throws(RemoteWriteError) -> (series: Int, metadata: Int) {
        var seriesCount = 0, metadataCount = 0
        var reader = ProtoReader(bytes: bytes, start: 0, end: bytes.count)
        while let (field, wire, at) = try reader.nextTag() {
            switch (field, wire) {
            case (1, 2):
                try series(try reader.subMessage(at: at, what: "TimeSeries"), seriesCount)
                seriesCount += 1
            case (3, 2):
                _ = try reader.subMessage(at: at, what: "MetricMetadata")
                metadataCount += 1
            default:
                try reader.skip(wire: wire, field: field, at: at)
            }
        }
        return (seriesCount, metadataCount)
    }

    static func decodeSeries(_ message: ProtoReader, index: Int, limits: RemoteWriteLimits,
                                     into out: inout RemoteWriteRequest) throws(RemoteWriteError) {
        var reader = message
        var pairs: [Label] = []
        var timestamps: [Int64] = []
        var values: [Double] = []
        while let (field, wire, at) = try reader.nextTag() {
            switch (field, wire) {
            case (1, 2):
                guard pairs.count < limits.maxLabelsPerSeries else {
                    throw .limit(series: index, message: "more than \(limits.maxLabelsPerSeries) labels (max_labels_per_series)")
                }
                pairs.append(try decodeLabel(try reader.subMessage(at: at, what: "Label"), series: index, limits: limits))
            case (2, 2):
                let (nanos, value) = try decodeSample(try reader.subMessage(at: at, what: "Sample"), series: index)
                timestamps.append(nanos)
                values.append(value)
            case (3, 2):
                _ = try reader.subMessage(at: at, what: "Exemplar")
                out.exemplarsSkipped += 1
            case (4, 2):
                _ = try reader.subMessage(at: at, what: "Histogram")
                out.histogramsSkipped += 1
            default:
                try reader.skip(wire: wire, field: field, at: at)
            }
        }
        guard !timestamps.isEmpty else { return }
        out.series.append(try makeLabels(pairs, series: index))
        out.seriesOfSample.append(contentsOf: repeatElement(out.series.count - 1, count: timestamps.count))
        out.timestamps.append(contentsOf: timestamps)
        out.values.append(contentsOf: values)
    }

    /// One `Sample` message: its time in nanoseconds (milliseconds on the wire) and its value.
    static func decodeSample(_ message: ProtoReader, series: Int) throws(RemoteWriteError) -> (nanos: Int64, value: Double) {
        var sample = message
        var value = 0.0
        var millis: Int64 = 0
        while let (f, w, a) = try sample.nextTag() {
            switch (f, w) {
            case (1, 1): value = Double(bitPattern: try sample.fixed64(at: a))
            case (2, 0): millis = Int64(bitPattern: try sample.varint())
            default: try sample.skip(wire: w, field: f, at: a)
            }
        }
        let (nanos, overflow) = millis.multipliedReportingOverflow(by: 1_000_000)
        guard !overflow else { throw .timestampOutOfRange(series: series, millis: millis) }
        return (nanos, value)
    }

    private static func decodeLabel(_ message: ProtoReader, series: Int, limits: RemoteWriteLimits) throws(RemoteWriteError) -> Label {
        var reader = message
        var name = ""
        var value = ""
        while let (field, wire, at) = try reader.nextTag() {
            switch (field, wire) {
            case (1, 2):
                let range = try reader.bytesRange(at: at, what: "label name")
                guard range.count <= limits.maxLabelNameBytes else {
                    throw .limit(series: series, message: "a label name is longer than \(limits.maxLabelNameBytes) bytes (max_label_name_bytes)")
                }
                name = try reader.string(range, at: at, what: "label name")
            case (2, 2):
                let range = try reader.bytesRange(at: at, what: "label value")
                guard range.count <= limits.maxLabelValueBytes else {
                    throw .limit(series: series, message: "a label value is longer than \(limits.maxLabelValueBytes) bytes (max_label_value_bytes)")
                }
                value = try reader.string(range, at: at, what: "label value")
            default:
                try reader.skip(wire: wire, field: field, at: at)
            }
        }
        return Label(name, value)
    }

    /// The series' label set, exactly as sent. Senders sort labels by name (the protocol says
    /// they must), so the common case builds the set without re-sorting.
    private static func makeLabels(_ pairs: [Label], series: Int) throws(RemoteWriteError) -> Labels {
        var sorted = true
        var hasEmptyValue = false
        for i in pairs.indices {
            guard !pairs[i].name.isEmpty else { throw .invalidSeries(series: series, message: "a label has an empty name") }
            if pairs[i].value.isEmpty { hasEmptyValue = true }
            if i > 0 {
                if pairs[i - 1].name == pairs[i].name {
                    throw .invalidSeries(series: series, message: "label name \"\(pairs[i].name)\" appears twice")
                }
                if !(pairs[i - 1].name < pairs[i].name) { sorted = false }
            }
        }
        let labels: Labels
        if sorted && !hasEmptyValue {
            labels = Labels(sortedPairs: pairs)
        } else {
            if !sorted, Set(pairs.map(\.name)).count != pairs.count {
                throw .invalidSeries(series: series, message: "a label name appears twice")
            }
            // An empty value means "no such label", as in Prometheus.
            labels = Labels(pairs)
        }
        guard let metric = labels.metric, !metric.isEmpty else {
            throw .invalidSeries(series: series, message: "no __name__ label (the metric name)")
        }
        return labels
    }
}
