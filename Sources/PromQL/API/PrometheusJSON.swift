import Dispatch
import Foundation
import TSDB

/// The Prometheus HTTP API's JSON bodies, byte for byte as Prometheus 2.42 shapes them:
/// `{"status":"success","data":{"resultType":…,"result":…}}`, samples as
/// `[seconds, "value"]` with millisecond timestamps and Go's float text, and errors as
/// `{"status":"error","errorType":…,"error":…}`.
package enum PrometheusJSON {
    /// `grid`: a range query's steps (`start`, `step` in milliseconds, `count` of them); each
    /// step's timestamp text is then written once and copied to every series' point there.
    package static func query(_ value: QueryValue, stats: PromQLEngine.Stats? = nil, grid: (start: Int64, step: Int64, count: Int)? = nil) -> [UInt8] {
        var w = Writer()
        w.raw(#"{"status":"success","data":{"resultType":""#)
        w.raw(value.resultType)
        w.raw(#"","result":"#)
        switch value {
        case .scalar(let t, let v):
            point(&w, t, v)
        case .string(let t, let s):
            w.raw("["); timestamp(&w, t); w.raw(","); w.string(s); w.raw("]")
        case .vector(let t, let samples):
            w.raw("[")
            for (k, s) in samples.enumerated() {
                if k > 0 { w.raw(",") }
                w.raw(#"{"metric":"#); labels(&w, s.labels)
                w.raw(#","value":"#); point(&w, t, s.value)
                w.raw("}")
            }
            w.raw("]")
        case .matrix(let series):
            w.raw("[")
            matrix(series, grid: grid, into: &w)
            w.raw("]")
        }
        if let stats {
            w.raw(#","stats":{"samples":{"totalQueryableSamples":"#)
            w.raw(String(stats.samplesFetched))
            w.raw(#"},"steps":"#)
            w.raw(String(stats.steps))
            w.raw("}")
        }
        w.raw("}}")
        return w.bytes
    }

    /// A matrix's series, comma-separated. A large one is written in parts on the cores at
    /// once (series split by their points), each part into its own buffer, then joined.
    private static func matrix(_ series: [Series], grid: (start: Int64, step: Int64, count: Int)?, into w: inout Writer) {
        let points = series.reduce(0) { $0 + $1.timestamps.count }
        let parts = points >= 16_384 && series.count >= 8 ? min(ProcessInfo.processInfo.activeProcessorCount, 4) : 1
        guard parts > 1 else {
            // About 24 bytes a point (`[1700000000.5,"12.25"],`), so the buffer grows rarely.
            w.bytes.reserveCapacity(w.bytes.count + 24 * points + 256 * series.count)
            var texts = TimestampTexts(grid)
            for k in series.indices { seriesJSON(series[k], first: k == 0, &texts, &w) }
            return
        }
        // Part p takes the series from bounds[p] up to bounds[p + 1].
        var bounds = [0]
        var seen = 0
        for (k, s) in series.enumerated() {
            seen += s.timestamps.count
            if bounds.count < parts, seen * parts >= points * bounds.count { bounds.append(k + 1) }
        }
        while bounds.count <= parts { bounds.append(series.count) }
        let splits = bounds
        var out = [[UInt8]](repeating: [], count: parts)
        out.withUnsafeMutableBufferPointer { o in
            nonisolated(unsafe) let o = o.baseAddress!
            DispatchQueue.concurrentPerform(iterations: parts) { p in
                let range = splits[p]..<splits[p + 1]
                var pw = Writer(capacity: 24 * points / parts + 256 * range.count + 64)
                var texts = TimestampTexts(grid)
                for k in range { seriesJSON(series[k], first: k == 0, &texts, &pw) }
                o[p] = pw.bytes
            }
        }
        for part in out { w.bytes.append(contentsOf: part) }
    }

    /// One series of a matrix, `{"metric":{…},"values":[[t,"v"],…]}`, after a comma unless first.
    private static func seriesJSON(_ s: Series, first: Bool, _ texts: inout TimestampTexts, _ w: inout Writer) {
        if !first { w.bytes.append(UInt8(ascii: ",")) }
        w.raw(#"{"metric":"#); labels(&w, s.labels)
        w.raw(#","values":["#)
        s.timestamps.withUnsafeBufferPointer { ts in
            s.values.withUnsafeBufferPointer { vs in
                for i in 0..<min(ts.count, vs.count) {
                    if i > 0 { w.bytes.append(UInt8(ascii: ",")) }
                    w.bytes.append(UInt8(ascii: "["))
                    texts.append(ts[i], to: &w)
                    w.bytes.append(UInt8(ascii: ",")); w.bytes.append(UInt8(ascii: "\""))
                    FloatFormat.appendAPI(vs[i], to: &w.bytes)
                    w.bytes.append(UInt8(ascii: "\"")); w.bytes.append(UInt8(ascii: "]"))
                }
            }
        }
        w.raw("]}")
    }

    /// `{"status":"success","data":[{…labels…}, …]}` for /series.
    package static func series(_ sets: [Labels]) -> [UInt8] {
        list(sets) { w, l in labels(&w, l) }
    }

    /// `{"status":"success","data":["a","b"]}` for /labels and /label/<name>/values.
    package static func strings(_ strings: [String]) -> [UInt8] {
        list(strings) { w, s in w.string(s) }
    }

    /// `{"status":"success","data":[…]}`, each item written by `item`.
    private static func list<Item>(_ items: [Item], _ item: (inout Writer, Item) -> Void) -> [UInt8] {
        var w = Writer()
        w.raw(#"{"status":"success","data":["#)
        for (k, x) in items.enumerated() {
            if k > 0 { w.raw(",") }
            item(&w, x)
        }
        w.raw("]}")
        return w.bytes
    }

    /// `{"status":"success","data":{…}}` with string values (buildinfo) or an empty object.
    package static func object(_ pairs: [(String, String)]) -> [UInt8] {
        var w = Writer()
        w.raw(#"{"status":"success","data":{"#)
        for (k, p) in pairs.enumerated() {
            if k > 0 { w.raw(",") }
            w.string(p.0); w.raw(":"); w.string(p.1)
        }
        w.raw("}}")
        return w.bytes
    }

    package static func error(_ e: PromQLError) -> [UInt8] {
        var w = Writer()
        w.raw(#"{"status":"error","errorType":""#)
        w.raw(e.errorType)
        w.raw(#"","error":"#)
        w.string(e.description)
        w.raw("}")
        return w.bytes
    }

    private static func labels(_ w: inout Writer, _ l: Labels) {
        w.raw("{")
        for (k, p) in l.pairs.enumerated() {
            if k > 0 { w.raw(",") }
            w.string(p.name); w.raw(":"); w.string(p.value)
        }
        w.raw("}")
    }

    private static func point(_ w: inout Writer, _ t: Int64, _ v: Double) {
        w.bytes.append(UInt8(ascii: "[")); timestamp(&w, t)
        w.bytes.append(UInt8(ascii: ",")); w.bytes.append(UInt8(ascii: "\""))
        FloatFormat.appendAPI(v, to: &w.bytes)
        w.bytes.append(UInt8(ascii: "\"")); w.bytes.append(UInt8(ascii: "]"))
    }

    /// Seconds with the milliseconds as Prometheus writes them: `1700000000`, `1700000000.500`.
    static func timestamp(_ w: inout Writer, _ ms: Int64) {
        var t = ms
        if t < 0 { w.raw("-"); t = -t }
        FloatFormat.appendInteger(t / 1000, to: &w.bytes)
        let f = t % 1000
        if f != 0 {
            w.bytes.append(UInt8(ascii: "."))
            if f < 100 { w.bytes.append(UInt8(ascii: "0")) }
            if f < 10 { w.bytes.append(UInt8(ascii: "0")) }
            FloatFormat.appendInteger(f, to: &w.bytes)
        }
    }

    /// The text of each step's timestamp of a range query, written on first use.
    struct TimestampTexts {
        let start: Int64, step: Int64
        var bytes: [UInt8] = []
        /// Where step j's text lies in `bytes` (offset << 8 | length); 0: not written yet.
        var spans: [Int]

        init(_ grid: (start: Int64, step: Int64, count: Int)?) {
            start = grid?.start ?? 0
            step = max(grid?.step ?? 1, 1)
            spans = [Int](repeating: 0, count: grid.map { max($0.count, 0) } ?? 0)
        }

        mutating func append(_ t: Int64, to w: inout Writer) {
            let (d, o) = t.subtractingReportingOverflow(start)
            guard !o, d >= 0, d % step == 0, d / step < Int64(spans.count) else { PrometheusJSON.timestamp(&w, t); return }
            let j = Int(d / step)
            if spans[j] == 0 {
                var tmp = Writer(capacity: 0)
                swap(&tmp.bytes, &bytes)
                let at = tmp.bytes.count
                PrometheusJSON.timestamp(&tmp, t)
                spans[j] = at << 8 | (tmp.bytes.count - at)
                swap(&tmp.bytes, &bytes)
            }
            let at = spans[j] >> 8, n = spans[j] & 0xFF
            bytes.withUnsafeBufferPointer { w.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: $0[at..<(at + n)])) }
        }
    }

    struct Writer {
        var bytes: [UInt8] = []
        init(capacity: Int = 4096) { bytes.reserveCapacity(capacity) }
        mutating func raw(_ s: String) { bytes.append(contentsOf: s.utf8) }
        mutating func string(_ s: String) {
            bytes.append(UInt8(ascii: "\""))
            for b in s.utf8 {
                switch b {
                case UInt8(ascii: "\""): bytes.append(contentsOf: [92, 34])
                case UInt8(ascii: "\\"): bytes.append(contentsOf: [92, 92])
                case 10: bytes.append(contentsOf: [92, 110])
                case 13: bytes.append(contentsOf: [92, 114])
                case 9: bytes.append(contentsOf: [92, 116])
                case 0..<32:
                    let hex = Array("0123456789abcdef".utf8)
                    bytes.append(contentsOf: [92, 117, 48, 48, hex[Int(b >> 4)], hex[Int(b & 15)]])
                default: bytes.append(b)
                }
            }
            bytes.append(UInt8(ascii: "\""))
        }
    }
}
