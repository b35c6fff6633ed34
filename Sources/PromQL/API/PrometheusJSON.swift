import TSDB

/// The Prometheus HTTP API's JSON bodies, byte for byte as Prometheus 2.42 shapes them:
/// `{"status":"success","data":{"resultType":…,"result":…}}`, samples as
/// `[seconds, "value"]` with millisecond timestamps and Go's float text, and errors as
/// `{"status":"error","errorType":…,"error":…}`.
package enum PrometheusJSON {
    package static func query(_ value: QueryValue, stats: PromQLEngine.Stats? = nil) -> [UInt8] {
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
            for (k, s) in series.enumerated() {
                if k > 0 { w.raw(",") }
                w.raw(#"{"metric":"#); labels(&w, s.labels)
                w.raw(#","values":["#)
                for i in s.timestamps.indices {
                    if i > 0 { w.raw(",") }
                    point(&w, s.timestamps[i], s.values[i])
                }
                w.raw("]}")
            }
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

    struct Writer {
        var bytes: [UInt8] = []
        init() { bytes.reserveCapacity(4096) }
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
