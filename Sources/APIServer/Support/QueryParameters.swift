import HummingbirdCore
import Hummingbird
import Primitives

/// The query string of a request, percent-decoded (keys too, so `match%5B%5D` is `match[]`)
/// with `+` as space, and typed getters that fail with 400 naming the parameter.
package struct QueryParameters {
    private(set) var pairs: [(String, String)] = []

    package init(_ uri: URI) throws(APIError) {
        try self.init(query: uri.query ?? "")
    }

    /// An `application/x-www-form-urlencoded` body, decoded like a query string.
    static func form(_ body: [UInt8]) throws(APIError) -> QueryParameters {
        guard let text = String(validating: body, as: UTF8.self) else { throw .badRequest("the form body is not valid UTF-8") }
        return try QueryParameters(query: text)
    }

    init(query: String) throws(APIError) {
        guard !query.isEmpty else { return }
        for part in query.split(separator: "&", omittingEmptySubsequences: true) {
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = try Self.decode(kv[0])
            let value = kv.count > 1 ? try Self.decode(kv[1]) : ""
            // An empty value is the same as leaving the parameter out (forms send `start=`),
            // except for group_by, where empty means one group of everything.
            if value.isEmpty && key != "group_by" { continue }
            pairs.append((key, value))
        }
    }

    static func decode(_ s: Substring) throws(APIError) -> String {
        var out: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let c = it.popFirst() {
            if c == UInt8(ascii: "+") { out.append(0x20); continue }
            guard c == UInt8(ascii: "%") else { out.append(c); continue }
            guard it.count >= 2, let hi = hexValue(it[it.startIndex]), let lo = hexValue(it[it.startIndex + 1]) else {
                throw .badRequest("malformed percent-encoding in the query string")
            }
            out.append(hi << 4 | lo)
            it = it.dropFirst(2)
        }
        guard let text = String(validating: out, as: UTF8.self) else { throw .badRequest("the query string is not valid UTF-8") }
        return text
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x41 + 10
        case 0x61...0x66: return c - 0x61 + 10
        default: return nil
        }
    }

    /// The last value of the first name present.
    package func string(_ names: String...) -> String? {
        for name in names {
            if let v = pairs.last(where: { $0.0 == name })?.1 { return v }
        }
        return nil
    }

    /// Every value of these names, in order; comma-separated values are split when `split`.
    package func all(_ names: String..., split: Bool = false) -> [String] {
        var out: [String] = []
        for (k, v) in pairs where names.contains(k) {
            if split { out.append(contentsOf: v.split(separator: ",").map(String.init).filter { !$0.isEmpty }) } else { out.append(v) }
        }
        return out
    }

    package func int(_ name: String, default value: Int, range: ClosedRange<Int>) throws(APIError) -> Int {
        guard let text = string(name) else { return value }
        guard let v = Int(text), range.contains(v) else {
            throw .badRequest("\(name) must be an integer in \(range.lowerBound)...\(range.upperBound), got \"\(text)\"")
        }
        return v
    }

    /// A time given as RFC 3339, an epoch number (s, ms, µs or ns by magnitude), `now` or
    /// `now-1h`; one outside Int64 nanoseconds is a 400, never a wrapped time.
    package func time(_ names: String...) throws(APIError) -> Int64? {
        for name in names {
            guard let text = pairs.last(where: { $0.0 == name })?.1 else { continue }
            do { return try TimeParser.parse(text) } catch { throw .badRequest("\(name): \(error.description)") }
        }
        return nil
    }

    /// A duration: Go/Prometheus style (`30s`, `1m30s`, `500ms`, `1h`) or a number of seconds.
    package func duration(_ name: String) throws(APIError) -> Int64? {
        guard let text = string(name), !text.isEmpty else { return nil }
        let d: Int64
        do { d = try DurationParser.nanoseconds(text) } catch { throw .badRequest("\(name): \(error.description)") }
        guard d > 0 else { throw .badRequest("\(name) \"\(text)\" is not a positive duration; use e.g. 30s, 5m, 1h, 500ms or a number of seconds") }
        return d
    }

    /// Rejects parameters the endpoint does not know (so typos do not silently widen a query).
    func rejectUnknown(allowed: Set<String>) throws(APIError) {
        for (k, _) in pairs where !allowed.contains(k) {
            throw .badRequest("unknown query parameter \"\(k)\"; allowed: \(allowed.sorted().joined(separator: ", "))")
        }
    }
}
