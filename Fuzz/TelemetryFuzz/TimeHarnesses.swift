#if canImport(Glibc)
import Glibc
#endif
import APIServer
import Broker
import Ingest
import Primitives

/// Time, number and duration parsers (Primitives): query strings, bodies, CSV fields, flags.
enum TimeHarnesses {
    /// RFC 3339 (bytes and String), epoch numbers, the API's time parameter and the decimal
    /// parser. Invariants: a parsed time formats and parses back to itself; its fraction
    /// adds less than a second to the same text without it (no wrap past Int64); the bytes
    /// and String entry points agree; the decimal fast path gives strtod's result.
    @Sendable static func times(_ data: UnsafeRawBufferPointer) {
        let text = String(validating: data, as: UTF8.self)
        let t = RFC3339.parse(data)
        if let text { require(RFC3339.parse(text) == t, "RFC3339 bytes and String parses differ for \"\(text)\"") }
        if let t {
            let formatted = RFC3339.format(t)
            require(RFC3339.parse(formatted) == t, "RFC3339 \(t) formats as \(formatted), which does not parse back")
            checkFraction(data, t)
        }
        if let text {
            _ = Epoch.parse(text)
            _ = try? TimeParser.parse(text, now: 1_752_846_154_000_000_000)
            _ = DecimalParser.parse(text)
        }
        checkDecimal(data)
    }

    /// Durations as the API (`step`, `now-…` offsets) and the flags (`--visibility-timeout`)
    /// read them, `Retry-After`, listen addresses and per-topic partition lists.
    @Sendable static func durations(_ data: UnsafeRawBufferPointer) {
        guard let text = String(validating: data, as: UTF8.self) else { return }
        if let d = try? DurationParser.nanoseconds(text) { require(d >= 0, "duration \"\(text)\" parsed as negative \(d)") }
        if let d = try? DurationParser.duration(text) { require(d >= .zero, "flag duration \"\(text)\" parsed as negative \(d)") }
        _ = try? RetryAfter.parse(text)
        if let a = try? ListenAddress.parse(text) { require((0...65535).contains(a.port), "listen port \(a.port) out of range") }
        if let p = parseTopicPartitions(text) { require(p.values.allSatisfy { $0 > 0 }, "partition count below 1 from \"\(text)\"") }
    }

    /// `t` minus the time of the same text with its fraction removed is in 0..<1 s.
    static func checkFraction(_ data: UnsafeRawBufferPointer, _ t: Int64) {
        guard data.count > 20, data[19] == UInt8(ascii: ".") || data[19] == UInt8(ascii: ",") else { return }
        var end = 20
        while end < data.count, data[end] >= 0x30, data[end] <= 0x39 { end += 1 }
        let whole = [UInt8](data[..<19]) + [UInt8](data[end...])
        guard let t0 = whole.withUnsafeBytes({ RFC3339.parse($0) }) else {
            // Only the last second before Int64's minimum has a fraction without a whole.
            require(t < Int64.min + 1_000_000_000, "RFC3339 \(t) parses with a fraction but not without it")
            return
        }
        let (diff, overflow) = t.subtractingReportingOverflow(t0)
        require(!overflow && diff >= 0 && diff < 1_000_000_000,
                "RFC3339 fraction moved the time by \(overflow ? "an overflowing amount" : String(diff)) ns (\(t0) -> \(t))")
    }

    /// Where the decimal parser and strtod both accept the whole text, they agree bit for bit.
    static func checkDecimal(_ data: UnsafeRawBufferPointer) {
        guard let fast = DecimalParser.parse(data) else { return }
        guard data.count < 64, !data.contains(0) else { return }
        var buf = [CChar](repeating: 0, count: data.count + 1)
        for k in 0..<data.count { buf[k] = CChar(bitPattern: data[k]) }
        let reference: Double? = buf.withUnsafeMutableBufferPointer { b in
            guard let base = b.baseAddress else { return nil }
            var end: UnsafeMutablePointer<CChar>? = nil
            let v = strtod(base, &end)
            guard let end, end - base == data.count else { return nil }
            return v
        }
        guard let reference else { return }
        require(sameBits(fast, reference) || (fast.isNaN && reference.isNaN),
                "DecimalParser gives \(fast) where strtod gives \(reference)")
    }
}
