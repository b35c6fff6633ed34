/// `topk`/`bottomk` by a number over a range query, series by series: each inner series'
/// group is worked out once per query, and every step runs Prometheus' heap selection over
/// series indices and values (no label set is hashed or copied per step). The heap, its
/// comparison and the order series enter it are those of ``Evaluator/aggregate(_:at:)``, so
/// ties select the same series.
extension Evaluator {
    private struct Ranked {
        var index: Int
        var value: Double
    }

    /// The selected series (with their own labels) at the steps where each is selected, or
    /// nil for a shape the step evaluator must take (k not a number, k < 1, a fallback inside).
    func topkSeries(_ a: AggregateExpr, steps: Int) throws(PromQLError) -> StepMatrix? {
        guard a.op == .topk || a.op == .bottomk, let p = a.param, case .number(let kv) = p.unwrapped,
              kv.isFinite, abs(kv) < 9.2e18, Int(kv) >= 1,
              let inner = try evalSeries(a.expr) else { return nil }
        let k = Int(kv)
        let top = a.op == .topk
        // Group of every inner series, numbered in order of first appearance.
        var groupOf: [[UInt8]: Int] = [:]
        var member: [Int] = []
        member.reserveCapacity(inner.labels.count)
        for l in inner.labels {
            let key = a.without ? l.signature(on: false, a.grouping) : (a.grouping.isEmpty ? [] : l.signature(on: true, a.grouping))
            if let g = groupOf[key] { member.append(g); continue }
            groupOf[key] = groupOf.count
            member.append(groupOf.count - 1)
        }
        let less: (Ranked, Ranked) -> Bool = top
            ? { x, y in (x.value.isNaN && !y.value.isNaN) || x.value < y.value }
            : { x, y in (x.value.isNaN && !y.value.isNaN) || x.value > y.value }
        var heaps = [[Ranked]](repeating: [], count: groupOf.count)
        var m = StepMatrix(steps: steps)
        m.labels = inner.labels
        m.values = inner.values
        m.present = [Bool](repeating: false, count: inner.present.count)
        for j in 0..<steps {
            try checkDeadline()
            for g in heaps.indices { heaps[g].removeAll(keepingCapacity: true) }
            for i in 0..<inner.labels.count where inner.present[i * steps + j] {
                let s = Ranked(index: i, value: inner.values[i * steps + j])
                let g = member[i]
                let h0 = heaps[g].first?.value ?? 0
                let beats = top ? h0 < s.value : h0 > s.value
                guard heaps[g].count < k || beats || h0.isNaN else { continue }
                if heaps[g].count == k {
                    if k == 1 { heaps[g][0] = s; continue }
                    GoHeap.pop(&heaps[g], less: less)
                }
                GoHeap.push(&heaps[g], s, less: less)
            }
            for h in heaps { for r in h { m.present[r.index * steps + j] = true } }
        }
        return m
    }
}
