import ArgumentParser
import Primitives

/// Flag values parsed with the shared parsers, their typed errors turned into the
/// `ValidationError` ArgumentParser prints ("Error: --retention: …").
enum FlagValues {
    /// A duration (`30`, `200ms`, `1h30m`, `7d`, `1w`) in nanoseconds.
    static func nanoseconds(_ text: String, flag: String, positive: Bool = false) throws -> Int64 {
        let value: Int64
        do { value = try DurationParser.nanoseconds(text) } catch { throw ValidationError("\(flag): \(error.description)") }
        if positive && value <= 0 { throw ValidationError("\(flag) must be longer than zero (got \"\(text)\")") }
        return value
    }

    static func duration(_ text: String, flag: String, positive: Bool = false) throws -> Duration {
        .nanoseconds(try nanoseconds(text, flag: flag, positive: positive))
    }

    static func listenAddress(_ text: String, flag: String = "--listen") throws -> ListenAddress {
        do { return try ListenAddress.parse(text) } catch { throw ValidationError("\(flag): \(error.description)") }
    }

    /// A point in time: RFC 3339, epoch, `now` or `now-1h`.
    static func time(_ text: String, flag: String) throws -> Int64 {
        do { return try TimeParser.parse(text) } catch { throw ValidationError("\(flag): \(error.description)") }
    }
}
