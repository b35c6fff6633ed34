import CRE2

/// A regular expression in RE2 syntax (Prometheus' dialect), matched against whole strings
/// in time linear in the input: no pattern can backtrack, so `(.|.)*!` over a long value
/// costs what `.*!` does. `.` matches a newline, as in Prometheus' label matchers.
///
/// ```swift
/// let re = try RE2Regex("GPU-[0-9a-f]+")
/// re.matches("GPU-5fd4")   // true
/// ```
final class RE2Regex: @unchecked Sendable {
    // RE2 objects are immutable after construction and documented as safe to match from
    // many threads at once; the pointer is only read.
    private let handle: OpaquePointer

    /// Compiles the pattern; a bad one throws RE2's reason.
    init(_ pattern: String) throws(RE2Error) {
        var error = [CChar](repeating: 0, count: 256)
        let bytes = Array(pattern.utf8)
        let compiled: OpaquePointer? = bytes.withUnsafeBufferPointer { p in
            error.withUnsafeMutableBufferPointer { e in
                p.withMemoryRebound(to: CChar.self) { c in
                    cre2_compile(c.baseAddress, c.count, e.baseAddress, e.count)
                }
            }
        }
        guard let compiled else {
            let reason = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw RE2Error(pattern: pattern, reason: reason.isEmpty ? "not a valid RE2 expression" : reason)
        }
        handle = compiled
    }

    deinit { cre2_free(handle) }

    /// Whether the whole string matches.
    func matches(_ s: String) -> Bool {
        var s = s
        return s.withUTF8 { p in
            p.withMemoryRebound(to: CChar.self) { c in cre2_full_match(handle, c.baseAddress, c.count) != 0 }
        }
    }
}

/// A pattern RE2 refused, with its reason (for example `missing ): (a`).
struct RE2Error: Error, Sendable {
    var pattern: String
    var reason: String
}
