/// One sample of the Prometheus text exposition format (what dcgm-exporter serves at
/// `/metrics`): `name{label="value",…} value [timestamp_ms]`.
package struct PrometheusSample: Sendable, Equatable {
    package var name: String
    /// Label pairs in the order they appear.
    package var labels: [Label]
    package var value: Double
    /// Milliseconds since the epoch, when the exporter gave one.
    package var timestampMillis: Int64?

    package struct Label: Sendable, Equatable {
        package var name: String
        package var value: String
        package init(_ name: String, _ value: String) { self.name = name; self.value = value }
    }

    package init(name: String, labels: [Label], value: Double, timestampMillis: Int64? = nil) {
        self.name = name
        self.labels = labels
        self.value = value
        self.timestampMillis = timestampMillis
    }

    package subscript(label: String) -> String? { labels.first { $0.name == label }?.value }
}

/// A line of the exposition text that is not a valid sample.
package struct PrometheusTextError: Error, Sendable, Equatable, CustomStringConvertible {
    package var line: Int
    package var message: String
    package var description: String { "line \(line): \(message)" }
}

/// Parser of the Prometheus text exposition format (version 0.0.4), a byte loop over the body:
/// comments (`# HELP`, `# TYPE`) and blank lines are skipped; label values may contain escaped
/// `\\`, `\"` and `\n`; values may be `NaN`, `+Inf`, `-Inf`.
///
/// ```swift
/// let (samples, problems) = PrometheusText.parse(Array(body.utf8))
/// ```
package enum PrometheusText {
    /// Parses every line; bad lines are reported (with their number) and skipped.
    package static func parse(_ bytes: [UInt8]) -> (samples: [PrometheusSample], problems: [PrometheusTextError]) {
        var samples: [PrometheusSample] = []
        var problems: [PrometheusTextError] = []
        var lineNo = 0
        var start = 0
        let n = bytes.count
        while start < n {
            var end = start
            while end < n && bytes[end] != UInt8(ascii: "\n") { end += 1 }
            lineNo += 1
            var lineEnd = end
            if lineEnd > start && bytes[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
            do {
                if let s = try parseLine(bytes, start, lineEnd) { samples.append(s) }
            } catch let message as LineError {
                if problems.count < 100 { problems.append(PrometheusTextError(line: lineNo, message: message.text)) }
            } catch {}
            start = end + 1
        }
        return (samples, problems)
    }

    private struct LineError: Error { var text: String }

    private static func isNameByte(_ b: UInt8, first: Bool) -> Bool {
        (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || b == UInt8(ascii: "_") || b == UInt8(ascii: ":")
            || (!first && b >= 0x30 && b <= 0x39)
    }

    private static func parseLine(_ b: [UInt8], _ s: Int, _ e: Int) throws -> PrometheusSample? {
        var i = s
        while i < e && (b[i] == 0x20 || b[i] == 0x09) { i += 1 }
        if i == e || b[i] == UInt8(ascii: "#") { return nil }
        let nameStart = i
        while i < e && isNameByte(b[i], first: i == nameStart) { i += 1 }
        guard i > nameStart else { throw LineError(text: "expected a metric name") }
        let name = String(decoding: b[nameStart..<i], as: UTF8.self)
        var labels: [PrometheusSample.Label] = []
        if i < e && b[i] == UInt8(ascii: "{") {
            i += 1
            while true {
                while i < e && (b[i] == 0x20 || b[i] == UInt8(ascii: ",")) { i += 1 }
                guard i < e else { throw LineError(text: "unterminated label set") }
                if b[i] == UInt8(ascii: "}") { i += 1; break }
                let ls = i
                while i < e && isNameByte(b[i], first: i == ls) { i += 1 }
                guard i > ls else { throw LineError(text: "expected a label name") }
                let lname = String(decoding: b[ls..<i], as: UTF8.self)
                while i < e && b[i] == 0x20 { i += 1 }
                guard i < e, b[i] == UInt8(ascii: "=") else { throw LineError(text: "expected = after label \(lname)") }
                i += 1
                while i < e && b[i] == 0x20 { i += 1 }
                guard i < e, b[i] == UInt8(ascii: "\"") else { throw LineError(text: "expected a quoted value for label \(lname)") }
                i += 1
                var value: [UInt8] = []
                var closed = false
                while i < e {
                    let c = b[i]
                    if c == UInt8(ascii: "\\"), i + 1 < e {
                        let nx = b[i + 1]
                        value.append(nx == UInt8(ascii: "n") ? 0x0A : nx)
                        i += 2
                    } else if c == UInt8(ascii: "\"") {
                        closed = true
                        i += 1
                        break
                    } else {
                        value.append(c)
                        i += 1
                    }
                }
                guard closed else { throw LineError(text: "unterminated value of label \(lname)") }
                labels.append(.init(lname, String(decoding: value, as: UTF8.self)))
            }
        }
        while i < e && (b[i] == 0x20 || b[i] == 0x09) { i += 1 }
        let vs = i
        while i < e && b[i] != 0x20 && b[i] != 0x09 { i += 1 }
        guard i > vs else { throw LineError(text: "missing value") }
        let valueText = String(decoding: b[vs..<i], as: UTF8.self)
        let value: Double
        switch valueText {
        case "NaN": value = .nan
        case "+Inf", "Inf": value = .infinity
        case "-Inf": value = -.infinity
        default:
            guard let v = Double(valueText) else { throw LineError(text: "bad value \"\(valueText)\"") }
            value = v
        }
        while i < e && (b[i] == 0x20 || b[i] == 0x09) { i += 1 }
        var ts: Int64?
        if i < e {
            let tsText = String(decoding: b[i..<e], as: UTF8.self).trimmingSpaces
            guard let t = Int64(tsText) else { throw LineError(text: "bad timestamp \"\(tsText)\"") }
            ts = t
        }
        return PrometheusSample(name: name, labels: labels, value: value, timestampMillis: ts)
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        var s = Substring(self)
        while s.last == " " || s.last == "\t" { s.removeLast() }
        return String(s)
    }
}
