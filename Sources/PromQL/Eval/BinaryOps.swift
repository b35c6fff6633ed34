import Foundation
import TSDB

/// Binary operators, ported from Prometheus 2.42's `VectorBinop`, `VectorAnd/Or/Unless` and
/// `VectorscalarBinop`: same matching rules, label handling and errors.
extension Evaluator {
    func binary(_ b: BinaryExpr, at t: Int64) throws(PromQLError) -> InstantValue {
        let l = try eval(b.lhs, at: t), r = try eval(b.rhs, at: t)
        switch (l, r) {
        case (.scalar(let x), .scalar(let y)):
            return .scalar(Self.scalarOp(b.op, x, y))
        case (.vector(let v), .scalar(let s)):
            return .vector(Self.vectorScalar(b.op, v, s, swap: false, returnBool: b.returnBool))
        case (.scalar(let s), .vector(let v)):
            return .vector(Self.vectorScalar(b.op, v, s, swap: true, returnBool: b.returnBool))
        case (.vector(let lv), .vector(let rv)):
            let m = b.matching ?? VectorMatching(card: b.op.isSetOperator ? .manyToMany : .oneToOne)
            switch b.op {
            case .and: return .vector(Self.and(lv, rv, m))
            case .or: return .vector(Self.or(lv, rv, m))
            case .unless: return .vector(Self.unless(lv, rv, m))
            default: return .vector(try Self.vectorVector(b.op, lv, rv, m, returnBool: b.returnBool))
            }
        default:
            throw .execution("binary expression must contain only scalar and instant vector types")
        }
    }

    static func scalarOp(_ op: BinaryOp, _ l: Double, _ r: Double) -> Double {
        switch op {
        case .add: return l + r
        case .sub: return l - r
        case .mul: return l * r
        case .div: return l / r
        case .pow: return pow(l, r)
        case .mod: return fmod(l, r)
        case .atan2: return atan2(l, r)
        case .eql: return l == r ? 1 : 0
        case .neq: return l != r ? 1 : 0
        case .gtr: return l > r ? 1 : 0
        case .lss: return l < r ? 1 : 0
        case .gte: return l >= r ? 1 : 0
        case .lte: return l <= r ? 1 : 0
        case .and, .or, .unless: return .nan
        }
    }

    /// (value, keep) of `l op r` for vector elements: comparisons keep the left value.
    static func elementOp(_ op: BinaryOp, _ l: Double, _ r: Double) -> (Double, Bool) {
        switch op {
        case .eql: return (l, l == r)
        case .neq: return (l, l != r)
        case .gtr: return (l, l > r)
        case .lss: return (l, l < r)
        case .gte: return (l, l >= r)
        case .lte: return (l, l <= r)
        default: return (scalarOp(op, l, r), true)
        }
    }

    static func vectorScalar(_ op: BinaryOp, _ v: [Sample], _ s: Double, swap: Bool, returnBool: Bool) -> [Sample] {
        var out: [Sample] = []
        out.reserveCapacity(v.count)
        for e in v {
            let (lv, rv) = swap ? (s, e.value) : (e.value, s)
            var (value, keep) = elementOp(op, lv, rv)
            // A comparison with the scalar on the left still yields the vector's value.
            if op.isComparison && swap { value = rv }
            if returnBool { value = keep ? 1 : 0; keep = true }
            if keep {
                let labels = op.dropsMetricName || returnBool ? e.labels.droppingMetricName : e.labels
                out.append(Sample(labels: labels, value: value))
            }
        }
        return out
    }

    static func and(_ l: [Sample], _ r: [Sample], _ m: VectorMatching) -> [Sample] {
        guard !l.isEmpty, !r.isEmpty else { return [] }
        let right = Set(r.map { $0.labels.signature(on: m.on, m.labels) })
        return l.filter { right.contains($0.labels.signature(on: m.on, m.labels)) }
    }

    static func or(_ l: [Sample], _ r: [Sample], _ m: VectorMatching) -> [Sample] {
        if l.isEmpty { return r }
        if r.isEmpty { return l }
        let left = Set(l.map { $0.labels.signature(on: m.on, m.labels) })
        return l + r.filter { !left.contains($0.labels.signature(on: m.on, m.labels)) }
    }

    static func unless(_ l: [Sample], _ r: [Sample], _ m: VectorMatching) -> [Sample] {
        guard !l.isEmpty, !r.isEmpty else { return l }
        let right = Set(r.map { $0.labels.signature(on: m.on, m.labels) })
        return l.filter { !right.contains($0.labels.signature(on: m.on, m.labels)) }
    }

    static func vectorVector(_ op: BinaryOp, _ lhs: [Sample], _ rhs: [Sample], _ m: VectorMatching,
                             returnBool: Bool) throws(PromQLError) -> [Sample] {
        guard !lhs.isEmpty, !rhs.isEmpty else { return [] }
        let swapped = m.card == .oneToMany
        let (l, r) = swapped ? (rhs, lhs) : (lhs, rhs)
        var rightSigs: [[UInt8]: Sample] = [:]
        for s in r {
            let sig = s.labels.signature(on: m.on, m.labels)
            if let dup = rightSigs[sig] {
                let side = swapped ? "left" : "right"
                let matched = m.on ? s.labels.keepingNames(m.labels) : s.labels.removing(m.labels + [Labels.metricName])
                throw .execution("found duplicate series for the match group \(promString(matched)) on the \(side) hand-side of the operation: [\(promString(s.labels)), \(promString(dup.labels))];many-to-many matching not allowed: matching labels must be unique on one side")
            }
            rightSigs[sig] = s
        }
        var matched: [[UInt8]: Set<Labels>] = [:]
        var out: [Sample] = []
        for ls in l {
            let sig = ls.labels.signature(on: m.on, m.labels)
            guard let rs = rightSigs[sig] else { continue }
            let (vl, vr) = swapped ? (rs.value, ls.value) : (ls.value, rs.value)
            var (value, keep) = elementOp(op, vl, vr)
            if returnBool { value = keep ? 1 : 0 } else if !keep { continue }
            var metric = resultMetric(ls.labels, rs.labels, op, m)
            if returnBool { metric = metric.droppingMetricName }
            if m.card == .oneToOne {
                if matched[sig] != nil {
                    throw .execution("multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)")
                }
                matched[sig] = []
            } else {
                if matched[sig, default: []].contains(metric) {
                    throw .execution("multiple matches for labels: grouping labels must ensure unique matches")
                }
                matched[sig, default: []].insert(metric)
            }
            out.append(Sample(labels: metric, value: value))
        }
        return out
    }

    static func resultMetric(_ l: Labels, _ r: Labels, _ op: BinaryOp, _ m: VectorMatching) -> Labels {
        var out = l
        if op.dropsMetricName { out = out.droppingMetricName }
        if m.card == .oneToOne {
            out = m.on ? out.keepingNames(m.labels) : out.removing(m.labels)
        }
        for name in m.include {
            out = out.setting(name, r.value(name))
        }
        return out
    }

    /// Prometheus' `labels.String()`: `{a="b", c="d"}`.
    static func promString(_ l: Labels) -> String {
        "{" + l.pairs.map { "\($0.name)=\"\($0.value)\"" }.joined(separator: ", ") + "}"
    }
}

extension Labels {
    func keepingNames(_ names: [String]) -> Labels {
        Labels(sortedPairs: pairs.filter { names.contains($0.name) })
    }
}
