import Foundation

/// Parameter parsing of Prometheus' HTTP API: times as float seconds or RFC 3339, durations as
/// float seconds or Prometheus durations (`5m`), with Prometheus' error messages.
package enum PrometheusParameters {
    /// Milliseconds since the epoch. Float seconds round to the millisecond, as Prometheus does.
    package static func time(_ text: String, name: String) throws(PromQLError) -> Int64 {
        if let v = Double(text), v.isFinite {
            let whole = v.rounded(.towardZero)
            let frac = ((v - whole) * 1000).rounded() / 1000
            guard abs(whole) < 9.2e15 else { throw .badData("invalid parameter \"\(name)\": cannot parse \"\(text)\" to a valid timestamp") }
            return Int64(whole) * 1000 + Int64((frac * 1000).rounded())
        }
        if let ms = rfc3339(text) { return ms }
        // Prometheus' own boundary times (what Grafana and clients send for "everything").
        if text == "-292273086-05-16T16:47:06Z" { return Int64.min / 1_000_000 }
        if text == "292277025-08-18T07:12:54.999999999Z" { return Int64.max / 1_000_000 }
        throw .badData("invalid parameter \"\(name)\": cannot parse \"\(text)\" to a valid timestamp")
    }

    /// Milliseconds.
    package static func duration(_ text: String, name: String) throws(PromQLError) -> Int64 {
        if let v = Double(text) {
            let ms = v * 1000
            guard ms.isFinite, abs(ms) < 9.2e15 else {
                throw .badData("invalid parameter \"\(name)\": cannot parse \"\(text)\" to a valid duration. It overflows int64")
            }
            // Go truncates the nanoseconds; milliseconds keep what Prometheus keeps.
            return Int64((v * 1e9).rounded(.towardZero)) / 1_000_000
        }
        if let ms = DurationParser.parse(text) { return ms }
        throw .badData("invalid parameter \"\(name)\": cannot parse \"\(text)\" to a valid duration")
    }

    static func rfc3339(_ text: String) -> Int64? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: text) { return Int64((d.timeIntervalSince1970 * 1000).rounded()) }
        f.formatOptions = [.withInternetDateTime]
        if let d = f.date(from: text) { return Int64((d.timeIntervalSince1970 * 1000).rounded()) }
        return nil
    }
}
