import CRE2
import TSDB

/// A regular expression compiled as Go's `regexp.Compile("^(?:" + re + ")$")`, which is what
/// Prometheus' `label_replace` uses: RE2 syntax and semantics (linear time, ASCII `\d` and
/// `\w`, no backreferences or lookaround), `.` not matching a newline, and the whole value
/// anchored. Submatches come back as byte ranges of the value.
final class GoRegex {
    private let handle: OpaquePointer
    let groupCount: Int

    init(_ pattern: String) throws(PromQLError) {
        var error = [CChar](repeating: 0, count: 256)
        let bytes = Array(pattern.utf8) + [0]
        let compiled: OpaquePointer? = bytes.withUnsafeBufferPointer { p in
            error.withUnsafeMutableBufferPointer { e in
                p.withMemoryRebound(to: CChar.self) { c in cre2_compile_go(c.baseAddress, c.count - 1, e.baseAddress, e.count) }
            }
        }
        guard let compiled else {
            let reason = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw .execution("invalid regular expression in label_replace(): \(pattern): \(reason) (RE2 syntax, as in Prometheus)")
        }
        handle = compiled
        groupCount = Int(cre2_group_count(compiled))
    }

    deinit { cre2_free(handle) }

    /// Byte ranges of the whole match (index 0) and each group (nil where it took no part),
    /// or nil when `value` as a whole does not match.
    func match(_ value: [UInt8]) -> [Range<Int>?]? {
        let pairs = groupCount + 1
        var offsets = [Int](repeating: -1, count: 2 * pairs)
        let text = value + [0]
        let ok = text.withUnsafeBufferPointer { t in
            t.withMemoryRebound(to: CChar.self) { c in
                offsets.withUnsafeMutableBufferPointer { o in
                    cre2_full_match_groups(handle, c.baseAddress, value.count, o.baseAddress, Int32(pairs))
                }
            }
        }
        guard ok != 0 else { return nil }
        return (0..<pairs).map { i in offsets[2 * i] < 0 ? nil : offsets[2 * i]..<offsets[2 * i + 1] }
    }

    /// The index of the first group called `name`, if any.
    func namedGroup(_ name: String) -> Int? {
        let bytes = Array(name.utf8) + [0]
        let i = bytes.withUnsafeBufferPointer { p in
            p.withMemoryRebound(to: CChar.self) { c in cre2_named_group(handle, c.baseAddress, c.count - 1) }
        }
        return i < 0 ? nil : Int(i)
    }

    /// Go's `Regexp.ExpandString`: `$1`, `${1}`, `$name`, `${name}`, `$$`; a group that does not
    /// exist or took no part expands to nothing, a malformed `$` stays as it is.
    func expand(_ template: String, value: [UInt8], groups: [Range<Int>?]) -> String {
        var out: [UInt8] = []
        let chars = Array(template.unicodeScalars)
        var i = 0
        func append(_ s: String) { out.append(contentsOf: s.utf8) }
        while i < chars.count {
            let c = chars[i]
            guard c == "$", i + 1 < chars.count else { append(String(Character(c))); i += 1; continue }
            if chars[i + 1] == "$" { out.append(UInt8(ascii: "$")); i += 2; continue }
            // Go's extract(): a name of letters, digits and '_', optionally in braces.
            var j = i + 1
            let brace = chars[j] == "{"
            if brace { j += 1 }
            let nameStart = j
            while j < chars.count, chars[j].properties.isAlphabetic || chars[j].properties.numericType == .decimal || chars[j] == "_" { j += 1 }
            let name = String(String.UnicodeScalarView(chars[nameStart..<j]))
            var ok = !name.isEmpty
            if ok && brace { if j < chars.count && chars[j] == "}" { j += 1 } else { ok = false } }
            guard ok else { out.append(UInt8(ascii: "$")); i += 1; continue }
            i = j
            var index: Int?
            if name.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) && !(name.utf8.count > 1 && name.utf8.first == 48) && name.utf8.count <= 8 {
                index = Int(name)
            } else {
                index = namedGroup(name)
            }
            if let k = index, k < groups.count, let r = groups[k] { out.append(contentsOf: value[r]) }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
