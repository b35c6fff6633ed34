import Primitives

/// Writes DCGM CSV as dcgm exports do: the 12-column header and every field quoted
/// (RFC 4180, quotes doubled), LF line ends.
public enum DCGMCSVWriter {
    public static let header = DCGMCSVParser.columns.joined(separator: ",") + "\n"

    public static func row(_ r: DCGMRecord) -> String {
        var out = ""
        append(r, to: &out)
        return out
    }

    public static func append(_ r: DCGMRecord, to out: inout String) {
        let fields = [RFC3339.format(r.timestamp), r.metric, r.gpuID, r.device, r.uuid, r.modelName, r.hostname,
                      r.container, r.pod, r.namespace, formatValue(r.value), r.labelsRaw]
        for (k, f) in fields.enumerated() {
            if k > 0 { out += "," }
            out += "\""
            out += f.contains("\"") ? f.replacingOccurrences(of: "\"", with: "\"\"") : f
            out += "\""
        }
        out += "\n"
    }

    public static func document(_ rows: [DCGMRecord]) -> [UInt8] {
        var out = header
        out.reserveCapacity(rows.count * 400 + header.utf8.count)
        for r in rows { append(r, to: &out) }
        return Array(out.utf8)
    }

    /// Shortest text that parses back to the same Double (integers without ".0").
    public static func formatValue(_ v: Double) -> String {
        if v.isFinite, v == v.rounded(), abs(v) < 1e15, !(v == 0 && v.sign == .minus) { return String(Int64(v)) }
        return "\(v)"
    }
}

private extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: Character(target), omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
