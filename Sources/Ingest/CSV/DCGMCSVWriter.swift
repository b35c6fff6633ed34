import Primitives

/// Writes DCGM CSV as dcgm exports do: the 12-column header and every field quoted
/// (RFC 4180, quotes doubled), LF line ends.
package enum DCGMCSVWriter {
    package static let header = DCGMCSVParser.columns.joined(separator: ",") + "\n"

    package static func row(_ r: DCGMRecord) -> String {
        var out = ""
        append(r, to: &out)
        return out
    }

    package static func append(_ r: DCGMRecord, to out: inout String) {
        let fields = [RFC3339.format(r.timestamp), r.metric, r.gpuID, r.device, r.uuid, r.modelName, r.hostname,
                      r.container, r.pod, r.namespace, formatValue(r.value), r.labelsRaw]
        for (k, f) in fields.enumerated() {
            if k > 0 { out += "," }
            appendQuoted(f, to: &out)
        }
        out += "\n"
    }

    package static func document(_ rows: [DCGMRecord]) -> [UInt8] {
        var out = header
        out.reserveCapacity(rows.count * 400 + header.utf8.count)
        for r in rows { append(r, to: &out) }
        return Array(out.utf8)
    }

    /// Shortest text that parses back to the same Double (integers without ".0").
    package static func formatValue(_ v: Double) -> String {
        if v.isFinite, v == v.rounded(), abs(v) < 1e15, !(v == 0 && v.sign == .minus) { return String(Int64(v)) }
        return "\(v)"
    }
}

extension DCGMCSVWriter {
    /// `field` in double quotes with its quotes doubled (RFC 4180). Done on the UTF-8 bytes:
    /// a quote followed by a combining mark is one `Character`, which a Character-level
    /// replace does not see, and the row would end inside the field.
    static func appendQuoted(_ field: String, to out: inout String) {
        out += "\""
        if field.utf8.contains(34) {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(field.utf8.count + 4)
            for b in field.utf8 {
                bytes.append(b)
                if b == 34 { bytes.append(34) }
            }
            out += String(decoding: bytes, as: UTF8.self)
        } else {
            out += field
        }
        out += "\""
    }

    static func quoted(_ field: String) -> String {
        var out = ""
        appendQuoted(field, to: &out)
        return out
    }
}
