@testable import Ingest

/// Record-level encode and decode of broker messages: only tests build and read messages
/// as records (the streamer writes rows in place, the collector validates and stores bytes).
extension MessageCodec {
    static func encode(_ records: some Collection<DCGMRecord>) -> [UInt8] {
        DCGMCSVWriter.document(Array(records))
    }

    /// Decodes a message strictly: a message with any row that does not parse is malformed as a
    /// whole (it goes to the dead-letter path intact, for inspection and replay).
    static func decode(_ payload: [UInt8]) throws(MalformedMessage) -> [DCGMRecord] {
        do {
            let (records, stats) = try DCGMCSVParser.parse(payload, strict: true)
            if stats.badRows > 0 {
                let first = stats.problems.first.map { "line \($0.line): \($0.message)" } ?? "bad rows"
                throw MalformedMessage(reason: "\(stats.badRows) bad rows; \(first)")
            }
            return records
        } catch let error as MalformedMessage {
            throw error
        } catch {
            throw MalformedMessage(reason: "\(error)")
        }
    }
}
