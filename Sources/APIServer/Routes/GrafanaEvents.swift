import Foundation
import Ingest
import Primitives
import TSDB

/// GPU events for Grafana annotations: XID errors (a change of `DCGM_FI_DEV_XID_ERRORS` to a
/// non-zero code) and GPUs appearing or going silent. The JSON plugin asks for annotations
/// through `/query` with the target `gpu_events` (answered as a table with `time`, `title`,
/// `text` and `tags` columns, which Grafana turns into annotations); the older simple-json
/// `/annotations` gets the same events in its own shape.
struct GrafanaEvents {
    static let target = "gpu_events"
    static let xidMetric = "DCGM_FI_DEV_XID_ERRORS"
    /// A GPU whose newest sample is older than this is reported as gone silent.
    static let silentAfter: Int64 = 5 * Nanos.minute
    /// Most events one answer holds (the newest are kept).
    static let maxEvents = 10_000

    struct Event {
        var time: Int64
        var title: String
        var text: String
        var tags: [String]
    }

    let db: TSDB

    func events(matchers: [LabelMatcher], from: Int64, to: Int64) -> [Event] {
        var out: [Event] = []
        if let answer = try? db.queryThroughAliases(Query(metric: Self.xidMetric, matchers: matchers, start: from, end: to)) {
            for s in answer.result.series {
                let uuid = GPULabelAliases.first(GPULabelAliases.uuid, in: s.labels) ?? "?"
                let host = GPULabelAliases.first(GPULabelAliases.hostname, in: s.labels) ?? "?"
                var previous = 0.0
                for (t, v) in zip(s.timestamps, s.values) {
                    if v != 0 && v != previous && v.isFinite {
                        out.append(Event(time: t, title: "XID \(Int64(v))", text: "XID error \(Int64(v)) on GPU \(uuid) (\(host))",
                                         tags: ["xid", host, uuid]))
                    }
                    previous = v
                }
            }
        }
        let now = Int64((Date().timeIntervalSince1970 * 1e9).rounded())
        for gpu in db.gpus() where Self.matches(gpu, matchers) {
            let host = gpu.hostname ?? "?"
            if let first = gpu.firstSeen, first >= from, first <= to {
                out.append(Event(time: first, title: "GPU appeared", text: "GPU \(gpu.uuid) first reported on \(host)", tags: ["gpu-appeared", host, gpu.uuid]))
            }
            if let last = gpu.lastSeen, last >= from, last <= to, now - last > Self.silentAfter {
                out.append(Event(time: last, title: "GPU silent", text: "GPU \(gpu.uuid) on \(host) has not reported since", tags: ["gpu-silent", host, gpu.uuid]))
            }
        }
        out.sort { $0.time < $1.time }
        return out.count > Self.maxEvents ? Array(out.suffix(Self.maxEvents)) : out
    }

    /// Whether a GPU satisfies the matchers that the inventory can check (UUID, host, index,
    /// namespace, pod, under any of their aliases); matchers on other labels do not filter GPU events.
    static func matches(_ gpu: GPUInfo, _ matchers: [LabelMatcher]) -> Bool {
        matchers.allSatisfy { m in
            // Through the alias table: a filter on `hostname` or `host` is one on the GPU's host.
            let group = GPULabelMatchers.group(of: m.name) ?? []
            if group == GPULabelAliases.uuid { return m.matches(gpu.uuid) }
            if group == GPULabelAliases.hostname { return m.matches(gpu.hostname ?? "") }
            if group == GPULabelAliases.index { return m.matches(gpu.gpuIndex ?? "") }
            if group == GPULabelAliases.namespace { return gpu.namespaces.isEmpty ? m.matches("") : gpu.namespaces.contains { m.matches($0) } }
            if group == GPULabelAliases.pod { return gpu.pods.isEmpty ? m.matches("") : gpu.pods.contains { m.matches($0) } }
            return true
        }
    }

    /// A table frame for `/query`.
    func write(_ w: inout JSONWriter, matchers: [LabelMatcher], from: Int64, to: Int64, refId: String?) {
        w.beginObject()
        w.key("type"); w.string("table")
        if let refId { w.key("refId"); w.string(refId) }
        w.key("columns"); w.beginArray()
        for (name, type) in [("time", "time"), ("title", "string"), ("text", "string"), ("tags", "string")] {
            w.beginObject(); w.key("text"); w.string(name); w.key("type"); w.string(type); w.endObject()
        }
        w.endArray()
        w.key("rows"); w.beginArray()
        for e in events(matchers: matchers, from: from, to: to) {
            w.beginArray()
            w.int(e.time / Nanos.millisecond); w.string(e.title); w.string(e.text); w.string(e.tags.joined(separator: ","))
            w.endArray()
        }
        w.endArray()
        w.endObject()
    }

    /// simple-json's `/annotations` answer.
    func writeLegacy(_ w: inout JSONWriter, annotation: JSONValue?, matchers: [LabelMatcher], from: Int64, to: Int64) {
        w.beginArray()
        for e in events(matchers: matchers, from: from, to: to) {
            w.beginObject()
            if let annotation, let name = annotation["name"]?.string {
                w.key("annotation"); w.beginObject(); w.key("name"); w.string(name); w.endObject()
            }
            w.key("time"); w.int(e.time / Nanos.millisecond)
            w.key("title"); w.string(e.title)
            w.key("text"); w.string(e.text)
            w.key("tags"); w.beginArray(); for t in e.tags { w.string(t) }; w.endArray()
            w.endObject()
        }
        w.endArray()
    }
}
