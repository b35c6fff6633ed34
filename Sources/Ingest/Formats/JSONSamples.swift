import Primitives
import TSDB

/// A JSON body that is not a valid sample document; `line`/`column` are 1-based.
package enum JSONSampleError: Error, Sendable, Equatable, CustomStringConvertible {
    case syntax(line: Int, column: Int, message: String)
    /// Sample `index` (0-based, in document order) starting at `line` is not a valid sample.
    case invalidSample(index: Int, line: Int, message: String)

    package var description: String {
        switch self {
        case .syntax(let line, let column, let message):
            return "invalid JSON at line \(line), column \(column): \(message)"
        case .invalidSample(let index, let line, let message):
            return "sample \(index) (line \(line)): \(message)"
        }
    }
}

/// Samples as JSON: one object, an array of objects, or NDJSON (one object per line).
///
/// The object shape is the original service's: `metric` (or `metric_name`), `value` (number
/// or numeric string), `time` (or `timestamp`; RFC 3339 or epoch s/ms/µs/ns by magnitude;
/// absent means now), and the DCGM fields `gpu_id`, `uuid`, `device_id` (or `device`),
/// `model_name`, `hostname`, `container`, `pod`, `namespace`, `labels_raw`, plus an optional
/// `labels` object. They map to the labels of a DCGM row (`gpu`, `UUID`, `device`,
/// `modelName`, `Hostname`, …; `labels_raw` pairs first, the named fields win).
///
/// ```swift
/// let s = try JSONSamples.decode(Array(#"{"metric":"DCGM_FI_DEV_GPU_UTIL","value":7,"uuid":"GPU-1"}"#.utf8), now: 0)
/// ```
package enum JSONSamples {
    /// Decodes one object or an array of objects.
    package static func decode(_ bytes: [UInt8], now: Int64) throws(JSONSampleError) -> [LabeledSample] {
        var out: [LabeledSample] = []
        try forEachItem(bytes, ndjson: false) { item, index throws(JSONSampleError) in out.append(try sample(item, index: index, now: now)) }
        return out
    }

    /// Decodes NDJSON: one object (or array of objects) per non-blank line.
    package static func decodeNDJSON(_ bytes: [UInt8], now: Int64) throws(JSONSampleError) -> [LabeledSample] {
        var out: [LabeledSample] = []
        try forEachItem(bytes, ndjson: true) { item, index throws(JSONSampleError) in out.append(try sample(item, index: index, now: now)) }
        return out
    }

    /// Calls `body` with each sample object of the document and its index (in document
    /// order): the items of a top-level array or the one object; with `ndjson`, those of
    /// every non-blank line.
    static func forEachItem(_ bytes: [UInt8], ndjson: Bool,
                            _ body: (Located, Int) throws(JSONSampleError) -> Void) throws(JSONSampleError) {
        guard ndjson else {
            var reader = JSONReader(bytes)
            let value = try reader.readDocument()
            switch value.value {
            case .array(let items):
                for (i, item) in items.enumerated() { try body(item, i) }
            case .object:
                try body(value, 0)
            default:
                throw .invalidSample(index: 0, line: value.line, message: "expected an object or an array of objects")
            }
            return
        }
        var start = 0
        var line = 0
        var index = 0
        while start < bytes.count {
            line += 1
            var end = start
            while end < bytes.count && bytes[end] != 0x0A { end += 1 }
            if bytes[start..<end].contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) {
                var reader = JSONReader(Array(bytes[start..<end]), firstLine: line)
                let value = try reader.readDocument()
                let items: [Located]
                if case .array(let a) = value.value { items = a } else { items = [value] }
                for item in items {
                    try body(item, index)
                    index += 1
                }
            }
            start = end + 1
        }
    }

    static let fieldLabels: [(String, String)] = [
        ("gpu_id", InventoryLabel.gpu), ("gpu", InventoryLabel.gpu),
        ("uuid", InventoryLabel.uuid), ("UUID", InventoryLabel.uuid),
        ("device_id", InventoryLabel.device), ("device", InventoryLabel.device),
        ("model_name", InventoryLabel.model), ("modelName", InventoryLabel.model),
        ("hostname", InventoryLabel.hostname), ("Hostname", InventoryLabel.hostname),
        ("container", InventoryLabel.container), ("pod", InventoryLabel.pod), ("namespace", InventoryLabel.namespace),
    ]

    static func sample(_ item: Located, index: Int, now: Int64) throws(JSONSampleError) -> LabeledSample {
        let p = try parts(item, index: index, now: now)
        return LabeledSample(labels: try labels(p, index: index, line: item.line), timestamp: p.timestamp, value: p.value)
    }

    /// One sample object's fields by key (the last of a repeated key wins), its metric name,
    /// value and time; its labels are built by ``labels(_:index:line:)``, only when needed.
    struct Parts {
        var fields: [String: JSONValue]
        var metric: String
        var timestamp: Int64
        var value: Double
    }

    static func parts(_ item: Located, index: Int, now: Int64) throws(JSONSampleError) -> Parts {
        func bad(_ m: String) -> JSONSampleError { .invalidSample(index: index, line: item.line, message: m) }
        guard case .object(let fields) = item.value else { throw bad("expected an object") }
        var dict: [String: JSONValue] = [:]
        for (k, v) in fields { dict[k] = v.value }
        guard let metricValue = dict["metric"] ?? dict["metric_name"] ?? dict["name"] ?? dict[Labels.metricName],
              case .string(let metric) = metricValue, !metric.isEmpty
        else { throw bad("missing \"metric\" (a non-empty string)") }
        let value: Double
        switch dict["value"] {
        case .number(let d)?: value = d
        case .integer(let i)?: value = Double(i)
        case .string(let s)?:
            guard let d = Double(s.trimmingWhitespace()) else { throw bad("\"value\" \"\(s)\" is not a number") }
            value = d
        case .bool(let b)?: value = b ? 1 : 0
        default: throw bad("missing \"value\" (a number)")
        }
        var timestamp = now
        switch dict["time"] ?? dict["timestamp"] {
        case nil, .null?: break
        case .string(let s)?:
            if let t = RFC3339.parse(s) { timestamp = t }
            else if let t = Epoch.parse(s) { timestamp = t }
            else { throw bad("\"time\" \"\(s)\" is neither RFC 3339 nor an epoch number") }
        case .integer(let i)?:
            guard let t = Epoch.nanos(fromInteger: i) else { throw bad("\"time\" \(i) is out of range") }
            timestamp = t
        case .number(let d)?:
            guard let t = Epoch.nanos(fromSeconds: d) else { throw bad("\"time\" \(d) is out of range") }
            timestamp = t
        default: throw bad("\"time\" must be an RFC 3339 string or an epoch number")
        }
        return Parts(fields: dict, metric: metric, timestamp: timestamp, value: value)
    }

    /// The sample's label set: `labels_raw` pairs, the `labels` object, the DCGM fields, the metric.
    static func labels(_ p: Parts, index: Int, line: Int) throws(JSONSampleError) -> Labels {
        func bad(_ m: String) -> JSONSampleError { .invalidSample(index: index, line: line, message: m) }
        var pairs: [Label] = []
        if case .string(let raw)? = p.fields["labels_raw"], !raw.isEmpty {
            pairs.append(contentsOf: LabelsRaw.parse(raw))
        }
        if case .object(let extra)? = p.fields["labels"] {
            for (k, v) in extra {
                guard let s = v.value.scalarString else { throw bad("label \"\(k)\" must be a string or a number") }
                pairs.append(Label(k, s))
            }
        }
        for (field, label) in fieldLabels {
            guard let v = p.fields[field] else { continue }
            if case .null = v { continue }
            guard let s = v.scalarString else { throw bad("\"\(field)\" must be a string or a number") }
            if !s.isEmpty { pairs.append(Label(label, s)) }
        }
        pairs.append(Label(Labels.metricName, p.metric))
        return Labels(pairs)
    }

    /// Appends to `key` every input ``labels(_:index:line:)`` reads, tagged and
    /// length-prefixed, so two samples with the same key have the same label set (the
    /// converse need not hold: a reordered object is another key for the same series).
    static func labelKey(_ p: Parts, into key: inout [UInt8]) {
        func text(_ tag: UInt8, _ s: String) {
            key.append(tag)
            let n = UInt32(truncatingIfNeeded: s.utf8.count)
            withUnsafeBytes(of: n.littleEndian) { key.append(contentsOf: $0) }
            key.append(contentsOf: s.utf8)
        }
        func scalar(_ v: JSONValue) {
            if let s = v.scalarString { text(0x10, s) } else { key.append(0x11) }
        }
        text(0x01, p.metric)
        if case .string(let raw)? = p.fields["labels_raw"], !raw.isEmpty { text(0x02, raw) }
        if case .object(let extra)? = p.fields["labels"] {
            for (k, v) in extra { text(0x03, k); scalar(v.value) }
        }
        for (i, (field, _)) in fieldLabels.enumerated() {
            guard let v = p.fields[field] else { continue }
            if case .null = v { continue }
            key.append(0x04)
            key.append(UInt8(i))
            scalar(v)
        }
    }
}
