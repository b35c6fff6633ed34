/// The delay of an HTTP `Retry-After` header in its delay-seconds form (`120`, or `0.5` as
/// some servers send). An HTTP-date, a negative number or anything else is malformed; a delay
/// beyond Int64 nanoseconds is out of range. Clients fall back to their own backoff then.
package enum RetryAfter {
    package static func parse(_ text: String) throws(TimeParseError) -> Duration {
        let trimmed = text.trimmingWhitespace()
        guard !trimmed.isEmpty, trimmed.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: ".") }) else {
            throw .malformedDuration(text)
        }
        return try DurationParser.duration(trimmed)
    }
}
