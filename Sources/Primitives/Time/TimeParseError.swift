/// Why a time or a duration was refused. Every parser here reports values beyond what Int64
/// nanoseconds hold (before 1677-09-21 or after 2262-04-11, or durations over ~292 years) as
/// ``outOfRange(_:)`` instead of wrapping or trapping; the API answers 400 with the message,
/// the CLI prints it.
package enum TimeParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not a time (or duration) in any accepted syntax.
    case malformed(String)
    /// Well-formed, but outside Int64 nanoseconds since the epoch.
    case outOfRange(String)
    /// Not a duration in any accepted syntax.
    case malformedDuration(String)
    /// A well-formed duration too long for Int64 nanoseconds.
    case durationOutOfRange(String)

    package var description: String {
        switch self {
        case .malformed(let text):
            return "\"\(text)\" is not a time: use RFC 3339 (2025-07-18T20:42:34Z), epoch seconds, milliseconds, microseconds or nanoseconds, now or now-1h"
        case .outOfRange(let text):
            return "\"\(text)\" is outside the times this database can hold (1677-09-21T00:12:43.145224192Z to 2262-04-11T23:47:16.854775807Z)"
        case .malformedDuration(let text):
            return "\"\(text)\" is not a duration: use a number of seconds (30, 0.5) or amounts with units ns, us, ms, s, m, h, d, w (250ms, 1h30m, 7d, 1w)"
        case .durationOutOfRange(let text):
            return "duration \"\(text)\" is longer than the ~292 years Int64 nanoseconds can hold"
        }
    }
}
