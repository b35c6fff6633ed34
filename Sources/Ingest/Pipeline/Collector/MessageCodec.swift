/// The payload of a broker message between streamer and collector: a DCGM CSV document (the
/// 12-column header plus rows), written by ``DCGMCSVWriter`` and read by ``DCGMCSVParser``. A
/// self-describing text format keeps messages inspectable with `curl` and lets any producer that
/// can write DCGM CSV feed the collector.
package enum MessageCodec {
    /// Checks a message strictly without building its records; returns its row count.
    package static func validate(_ payload: [UInt8]) throws(MalformedMessage) -> Int {
        var parser = DCGMCSVParser(strict: true)
        do {
            try payload.withUnsafeBytes { try parser.feedRows($0) { _ in } }
            try parser.finishRows { _ in }
        } catch {
            throw MalformedMessage(reason: "\(error)")
        }
        let stats = parser.stats
        if stats.badRows > 0 {
            let first = stats.problems.first.map { "line \($0.line): \($0.message)" } ?? "bad rows"
            throw MalformedMessage(reason: "\(stats.badRows) bad rows; \(first)")
        }
        return stats.rows
    }
}

/// A broker message the collector cannot decode.
package struct MalformedMessage: Error, Sendable, CustomStringConvertible {
    package var reason: String
    package var description: String { "malformed message: \(reason)" }
}
