import Foundation
import TSDB

/// Function calls: range-vector functions per series over their window, the rest over the
/// instant vector, as Prometheus 2.42 evaluates them (labels, name dropping, absent labels).
extension Evaluator {
    func call(_ f: Function, _ args: [Expr], at t: Int64) throws(PromQLError) -> InstantValue {
        if let m = args.firstIndex(where: { $0.unwrapped.isMatrix }) {
            return try rangeCall(f, args, matrixIndex: m, at: t)
        }
        switch f.name {
        case "time": return .scalar(Double(t) / 1000)
        case "pi": return .scalar(Double.pi)
        case "vector": return .vector([Sample(labels: Labels(sortedPairs: []), value: try eval(args[0], at: t).scalar)])
        case "scalar":
            let v = try eval(args[0], at: t).vector
            return .scalar(v.count == 1 ? v[0].value : .nan)
        case "timestamp":
            if case .vector(var vs) = args[0].unwrapped {
                // 2.42 reads the sample at the @ time itself, ignoring the offset.
                if vs.at != nil { vs.offset = 0 }
                return .vector(selectWithTime(vs, at: t).map {
                    Sample(labels: $0.0.labels.droppingMetricName, value: Double($0.1) / 1000)
                })
            }
            return .vector(try eval(args[0], at: t).vector.map { Sample(labels: $0.labels.droppingMetricName, value: Double(t) / 1000) })
        case "absent":
            let v = try eval(args[0], at: t).vector
            return .vector(v.isEmpty ? [Sample(labels: Self.absentLabels(args[0]), value: 1)] : [])
        case "sort", "sort_desc":
            let desc = f.name == "sort_desc"
            let v = try eval(args[0], at: t).vector
            // Ascending (or descending) with NaN last, like Prometheus' reversed heap order.
            return .vector(v.sorted { a, b in
                if a.value.isNaN != b.value.isNaN { return !a.value.isNaN }
                return desc ? a.value > b.value : a.value < b.value
            })
        case "label_replace": return .vector(try labelReplace(args, at: t))
        case "label_join": return .vector(try labelJoin(args, at: t))
        case "histogram_quantile": return .vector(try histogramQuantile(args, at: t))
        default: break
        }
        let v = try eval(args[0], at: t).vector
        let s = try args.dropFirst().map { (e: Expr) throws(PromQLError) -> Double in try eval(e, at: t).scalar }
        let fn: (Double) -> Double
        switch f.name {
        case "abs": fn = { abs($0) }
        case "ceil": fn = { $0.rounded(.up) }
        case "floor": fn = { $0.rounded(.down) }
        case "exp": fn = { Foundation.exp($0) }
        case "sqrt": fn = { $0.squareRoot() }
        case "ln": fn = { Foundation.log($0) }
        case "log2": fn = { Foundation.log2($0) }
        case "log10": fn = { Foundation.log10($0) }
        case "sgn": fn = { $0 < 0 ? -1 : ($0 > 0 ? 1 : $0) }
        case "deg": fn = { $0 * 180 / Double.pi }
        case "rad": fn = { $0 * Double.pi / 180 }
        case "sin": fn = { Foundation.sin($0) }
        case "cos": fn = { Foundation.cos($0) }
        case "tan": fn = { Foundation.tan($0) }
        case "asin": fn = { Foundation.asin($0) }
        case "acos": fn = { Foundation.acos($0) }
        case "atan": fn = { Foundation.atan($0) }
        case "sinh": fn = { Foundation.sinh($0) }
        case "cosh": fn = { Foundation.cosh($0) }
        case "tanh": fn = { Foundation.tanh($0) }
        case "asinh": fn = { Foundation.asinh($0) }
        case "acosh": fn = { Foundation.acosh($0) }
        case "atanh": fn = { Foundation.atanh($0) }
        case "round":
            let inverse = 1.0 / (s.first ?? 1)
            fn = { ($0 * inverse + 0.5).rounded(.down) / inverse }
        case "clamp":
            let lo = s[0], hi = s[1]
            if hi < lo { return .vector([]) }
            fn = { Swift.max(lo, Swift.min(hi, $0)).nanPropagating($0, lo + hi) }
        case "clamp_min": let lo = s[0]; fn = { Swift.max(lo, $0).nanPropagating($0, lo) }
        case "clamp_max": let hi = s[0]; fn = { Swift.min(hi, $0).nanPropagating($0, hi) }
        default: throw .unsupported("function \"\(f.name)\"")
        }
        return .vector(v.map { Sample(labels: $0.labels.droppingMetricName, value: fn($0.value)) })
    }

    private func rangeCall(_ f: Function, _ args: [Expr], matrixIndex: Int, at t: Int64) throws(PromQLError) -> InstantValue {
        guard case .matrix(let vs, let range) = args[matrixIndex].unwrapped else {
            throw .unsupported("range vector argument that is not a range selector")
        }
        var scalars: [Double] = []
        for (k, a) in args.enumerated() where k != matrixIndex { scalars.append(try eval(a, at: t).scalar) }
        if f.name == "holt_winters" {
            if scalars[0] <= 0 || scalars[0] >= 1 { throw .execution("invalid smoothing factor. Expected: 0 < sf < 1, got: \(scalars[0])") }
            if scalars[1] <= 0 || scalars[1] >= 1 { throw .execution("invalid trend factor. Expected: 0 < tf < 1, got: \(scalars[1])") }
        }
        if let values = pushed[vs.id] {
            return .vector(values.map { Sample(labels: $0.labels.droppingMetricName, value: $0.value) })
        }
        let ref = refTime(vs, t)
        var out: [Sample] = []
        var any = false
        for s in data[vs.id] ?? [] {
            let (lo, hi) = Self.window(s.timestamps, from: ref - range, to: ref)
            guard lo < hi else { continue }
            any = true
            if f.name == "absent_over_time" { break }
            let value = s.timestamps.withUnsafeBufferPointer { ts in
                s.values.withUnsafeBufferPointer { vs in
                    RangeFunctions.apply(f.name, RangeFunctions.Window(ts: ts[lo..<hi], vs: vs[lo..<hi], rangeStart: ref - range,
                                                                       rangeEnd: ref, range: range, evalTime: t),
                                         scalars: scalars)
                }
            }
            guard let v = value else { continue }
            // last_over_time acts like an offset and keeps the name; the rest drop it.
            out.append(Sample(labels: f.name == "last_over_time" ? s.labels : s.labels.droppingMetricName, value: v))
        }
        if f.name == "absent_over_time" {
            return .vector(any ? [] : [Sample(labels: Self.absentLabels(args[0]), value: 1)])
        }
        return .vector(out)
    }

    /// The labels `absent` gives: the selector's equality matchers, except a name repeated.
    static func absentLabels(_ e: Expr) -> Labels {
        let matchers: [LabelMatcher]
        switch e.unwrapped {
        case .vector(let vs), .matrix(let vs, _): matchers = vs.matchers
        default: return Labels(sortedPairs: [])
        }
        var set: [String: String] = [:]
        var has = Set<String>()
        for m in matchers where m.name != Labels.metricName {
            if m.op == .equal && !has.contains(m.name) {
                set[m.name] = m.value
                has.insert(m.name)
            } else {
                set[m.name] = nil
            }
        }
        return Labels(set)
    }

    private func labelReplace(_ args: [Expr], at t: Int64) throws(PromQLError) -> [Sample] {
        let v = try eval(args[0], at: t).vector
        let dst = Self.stringArg(args[1]), repl = Self.stringArg(args[2]), src = Self.stringArg(args[3]), pattern = Self.stringArg(args[4])
        // RE2, as Go's regexp in Prometheus: Foundation's ICU engine differs (Unicode `\d`,
        // backreferences, possessive quantifiers) and backtracks.
        let regex: GoRegex
        if let cached = regexes[pattern] { regex = cached } else {
            regex = try GoRegex("^(?:" + pattern + ")$")
            regexes[pattern] = regex
        }
        guard Self.isValidLabelName(dst) else { throw .execution("invalid destination label name in label_replace(): \(dst)") }
        return v.map { s in
            let value = Array(s.labels.value(src).utf8)
            guard let groups = regex.match(value) else { return s }
            return Sample(labels: s.labels.setting(dst, regex.expand(repl, value: value, groups: groups)), value: s.value)
        }
    }

    private func labelJoin(_ args: [Expr], at t: Int64) throws(PromQLError) -> [Sample] {
        let v = try eval(args[0], at: t).vector
        let dst = Self.stringArg(args[1]), sep = Self.stringArg(args[2])
        let srcs = args.dropFirst(3).map(Self.stringArg)
        for s in srcs where !Self.isValidLabelName(s) { throw .execution("invalid source label name in label_join(): \(s)") }
        guard Self.isValidLabelName(dst) else { throw .execution("invalid destination label name in label_join(): \(dst)") }
        return v.map { s in
            let joined = srcs.map { s.labels.value($0) }.joined(separator: sep)
            return Sample(labels: s.labels.setting(dst, joined), value: s.value)
        }
    }

    private func histogramQuantile(_ args: [Expr], at t: Int64) throws(PromQLError) -> [Sample] {
        let q = try eval(args[0], at: t).scalar
        let v = try eval(args[1], at: t).vector
        var groups: [[UInt8]: (Labels, [Quantile.Bucket])] = [:]
        var order: [[UInt8]] = []
        for s in v {
            guard let le = s.labels["le"], let bound = Self.parseGoFloat(le) else { continue }
            let key = s.labels.signature(on: false, ["le"])
            if groups[key] == nil {
                groups[key] = (s.labels.removing([Labels.metricName, "le"]), [])
                order.append(key)
            }
            groups[key]!.1.append(Quantile.Bucket(upperBound: bound, count: s.value))
        }
        return order.map { k in Sample(labels: groups[k]!.0, value: Quantile.bucketQuantile(q, groups[k]!.1)) }
    }

    static func parseGoFloat(_ s: String) -> Double? {
        switch s.lowercased() {
        case "+inf", "inf", "+infinity", "infinity": return .infinity
        case "-inf", "-infinity": return -.infinity
        case "nan": return .nan
        default: return Double(s)
        }
    }

    static func stringArg(_ e: Expr) -> String {
        if case .string(let s) = e.unwrapped { return s }
        return ""
    }
}

extension Expr {
    var isMatrix: Bool { if case .matrix = self { return true }; return false }
}

extension Double {
    /// Go's math.Max/Min return NaN when either side is NaN; Swift's max/min do not.
    func nanPropagating(_ a: Double, _ b: Double = 0) -> Double { a.isNaN || b.isNaN ? .nan : self }
}
