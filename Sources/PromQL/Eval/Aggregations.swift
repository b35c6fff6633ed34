import Foundation
import TSDB

/// Aggregation operators, ported from Prometheus 2.42's `aggregation`: groups in order of
/// first appearance, the same running mean for avg and Welford for stddev/stdvar, and topk /
/// bottomk through the same binary heap, so ties select the same series.
extension Evaluator {
    private final class Group {
        var labels: Labels
        var value: Double
        var mean: Double
        var count = 1
        var heap: [Sample] = []
        init(labels: Labels, value: Double) {
            self.labels = labels
            self.value = value
            self.mean = value
        }
    }

    func aggregate(_ a: AggregateExpr, at t: Int64) throws(PromQLError) -> InstantValue {
        var k = 0
        var q = 0.0
        var valueLabel = ""
        if let p = a.param {
            switch try eval(p, at: t) {
            case .scalar(let v):
                if a.op == .topk || a.op == .bottomk {
                    guard v.isFinite || v.isNaN, abs(v) < 9.2e18, !v.isNaN else { throw .execution("Scalar value \(v) overflows int64") }
                    k = Int(v)
                } else { q = v }
            case .string(let s): valueLabel = s
            default: break
            }
        }
        let vec = try eval(a.expr, at: t).vector
        if (a.op == .topk || a.op == .bottomk) && k < 1 { return .vector([]) }
        var grouping = a.grouping
        if a.op == .countValues {
            guard Self.isValidLabelName(valueLabel) else { throw .execution("invalid label name \"\(valueLabel)\"") }
            if !a.without { grouping.append(valueLabel) }
        }
        var groups: [[UInt8]: Group] = [:]
        var order: [Group] = []
        for var s in vec {
            if a.op == .countValues { s.labels = s.labels.setting(valueLabel, FloatFormat.plain(s.value)) }
            let key = a.without ? s.labels.signature(on: false, grouping)
                                : (grouping.isEmpty ? [] : s.labels.signature(on: true, grouping))
            guard let g = groups[key] else {
                let labels: Labels
                if a.without { labels = s.labels.removing(grouping + [Labels.metricName]) }
                else if !grouping.isEmpty { labels = s.labels.keepingNames(grouping) }
                else { labels = Labels(sortedPairs: []) }
                let g = Group(labels: labels, value: s.value)
                switch a.op {
                case .stdvar, .stddev: g.value = 0
                case .topk, .bottomk, .quantile: g.heap = [Sample(labels: s.labels, value: s.value)]
                case .group: g.value = 1
                default: break
                }
                groups[key] = g
                order.append(g)
                continue
            }
            switch a.op {
            case .sum: g.value += s.value
            case .avg:
                g.count += 1
                if g.mean.isInfinite {
                    if s.value.isInfinite && (g.mean > 0) == (s.value > 0) { break }
                    if !s.value.isInfinite && !s.value.isNaN { break }
                }
                g.mean += s.value / Double(g.count) - g.mean / Double(g.count)
            case .group: break
            case .max: if g.value < s.value || g.value.isNaN { g.value = s.value }
            case .min: if g.value > s.value || g.value.isNaN { g.value = s.value }
            case .count, .countValues: g.count += 1
            case .stddev, .stdvar:
                g.count += 1
                let delta = s.value - g.mean
                g.mean += delta / Double(g.count)
                g.value += delta * (s.value - g.mean)
            case .topk:
                if g.heap.count < k || g.heap[0].value < s.value || g.heap[0].value.isNaN {
                    if g.heap.count == k {
                        if k == 1 { g.heap[0] = s; break }
                        GoHeap.pop(&g.heap, less: GoHeap.byValue)
                    }
                    GoHeap.push(&g.heap, s, less: GoHeap.byValue)
                }
            case .bottomk:
                if g.heap.count < k || g.heap[0].value > s.value || g.heap[0].value.isNaN {
                    if g.heap.count == k {
                        if k == 1 { g.heap[0] = s; break }
                        GoHeap.pop(&g.heap, less: GoHeap.byReverseValue)
                    }
                    GoHeap.push(&g.heap, s, less: GoHeap.byReverseValue)
                }
            case .quantile: g.heap.append(s)
            }
        }
        var out: [Sample] = []
        for g in order {
            switch a.op {
            case .avg: g.value = g.mean
            case .count, .countValues: g.value = Double(g.count)
            case .stdvar: g.value = g.value / Double(g.count)
            case .stddev: g.value = (g.value / Double(g.count)).squareRoot()
            case .topk:
                out.append(contentsOf: g.heap.sorted { GoHeap.byValue($1, $0) })
                continue
            case .bottomk:
                out.append(contentsOf: g.heap.sorted { GoHeap.byReverseValue($1, $0) })
                continue
            case .quantile: g.value = Quantile.quantile(q, g.heap.map(\.value))
            default: break
            }
            out.append(Sample(labels: g.labels, value: g.value))
        }
        return .vector(out)
    }

    static func isValidLabelName(_ s: String) -> Bool {
        guard let f = s.utf8.first, !(f >= 48 && f <= 57) else { return false }
        return s.utf8.allSatisfy { ($0 | 0x20) >= 97 && ($0 | 0x20) <= 122 || ($0 >= 48 && $0 <= 57) || $0 == 95 }
    }
}

/// Go's `container/heap` over a slice, so heap-based selection picks what Prometheus picks.
enum GoHeap {
    /// `vectorByValueHeap.Less`: NaN first, then ascending.
    static func byValue(_ a: Sample, _ b: Sample) -> Bool {
        if a.value.isNaN && !b.value.isNaN { return true }
        return a.value < b.value
    }

    /// `vectorByReverseValueHeap.Less`: NaN first, then descending.
    static func byReverseValue(_ a: Sample, _ b: Sample) -> Bool {
        if a.value.isNaN && !b.value.isNaN { return true }
        return a.value > b.value
    }

    static func push<T>(_ h: inout [T], _ x: T, less: (T, T) -> Bool) {
        h.append(x)
        up(&h, h.count - 1, less)
    }

    @discardableResult
    static func pop<T>(_ h: inout [T], less: (T, T) -> Bool) -> T {
        let n = h.count - 1
        h.swapAt(0, n)
        down(&h, 0, n, less)
        return h.removeLast()
    }

    private static func up<T>(_ h: inout [T], _ j0: Int, _ less: (T, T) -> Bool) {
        var j = j0
        while true {
            let i = (j - 1) / 2
            if i == j || j <= 0 || !less(h[j], h[i]) { break }
            h.swapAt(i, j)
            j = i
        }
    }

    private static func down<T>(_ h: inout [T], _ i0: Int, _ n: Int, _ less: (T, T) -> Bool) {
        var i = i0
        while true {
            let j1 = 2 * i + 1
            if j1 >= n || j1 < 0 { break }
            var j = j1
            if j1 + 1 < n && less(h[j1 + 1], h[j1]) { j = j1 + 1 }
            if !less(h[j], h[i]) { break }
            h.swapAt(i, j)
            i = j
        }
    }
}
