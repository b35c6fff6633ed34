/// A small streaming JSON writer for command output (keys in the order written).
struct JSONWriter {
    private(set) var text = ""

    static func escape(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20:
                let h = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    /// Numbers as JSON numbers; NaN and infinities as the strings "NaN", "+Inf", "-Inf".
    static func number(_ v: Double) -> String {
        if v.isNaN { return "\"NaN\"" }
        if v.isInfinite { return v > 0 ? "\"+Inf\"" : "\"-Inf\"" }
        if v == 0, v.sign == .minus { return "-0.0" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }

    /// Unix milliseconds: an integer when exact, else with the sub-millisecond fraction.
    static func millis(_ ns: Int64) -> String {
        if ns % 1_000_000 == 0 { return String(ns / 1_000_000) }
        return "\(Double(ns) / 1e6)"
    }
}
