@testable import APIServer
import Foundation
import Testing
import TSDB

/// Bodies as the simPod JSON datasource (0.6.x) and Grafana 10/11 send them: builder-mode
/// payload values regex-escaped, multi-value variables, "All", payloads stored as strings in
/// code mode, every ad-hoc filter operator, `refId`/`alias`, and annotation queries.
@Suite struct GrafanaPluginReplayTests {
    static let t0: Int64 = 1_752_871_354_000_000_000

    /// Two hosts with dotted names, two GPUs each, a utilisation series and an XID series.
    static func seed(_ db: TSDB) async throws {
        var samples: [LabeledSample] = []
        for (h, host) in ["node.a.example", "node.b.example"].enumerated() {
            for gpu in 0..<2 {
                let uuid = "GPU-\(h)\(gpu)"
                for i in 0..<10 {
                    let ts = t0 + Int64(i) * 1_000_000_000
                    samples.append(LabeledSample(labels: Labels(["__name__": "DCGM_FI_DEV_GPU_UTIL", "Hostname": host, "UUID": uuid, "gpu": String(gpu)]),
                                                 timestamp: ts, value: Double(10 * h + gpu)))
                    let xid: Double = uuid == "GPU-00" ? [0, 0, 79, 79, 0, 48, 48, 48, 0, 0][i] : 0
                    samples.append(LabeledSample(labels: Labels(["__name__": "DCGM_FI_DEV_XID_ERRORS", "Hostname": host, "UUID": uuid, "gpu": String(gpu)]),
                                                 timestamp: ts, value: xid))
                }
            }
        }
        _ = try await db.append(samples)
    }

    static func body(targets: String, filters: String = "[]") -> String {
        """
        {"range":{"from":"2025-07-18T20:42:00.000Z","to":"2025-07-18T20:43:00.000Z"},"intervalMs":1000,"maxDataPoints":1000,
         "targets":\(targets),"adhocFilters":\(filters)}
        """
    }

    static func targets(_ reply: TestServer.Reply) throws -> [String] {
        try (reply.array() as? [[String: Any]] ?? []).compactMap { $0["target"] as? String }.sorted()
    }

    @Test func builderModePayloadValuesAreAnchoredRegexes() async throws {
        try await TestServer.with(ingestSample: false) { server in
            try await Self.seed(server.db)
            func hosts(_ payload: String) async throws -> Set<String> {
                let reply = try await server.post("/grafana/query", Self.body(targets: #"[{"refId":"A","target":"DCGM_FI_DEV_GPU_UTIL","payload":\#(payload)}]"#))
                #expect(reply.status == 200, "\(reply.text)")
                return Set(try (reply.array() as? [[String: Any]] ?? []).compactMap { ($0["tags"] as? [String: String])?["Hostname"] })
            }
            // One value, escaped by the plugin: a\.b must match the dotted host and only it.
            #expect(try await hosts(#"{"hostname":"node\\.a\\.example"}"#) == ["node.a.example"])
            // Several values as (a|b), and as an array.
            #expect(try await hosts(#"{"hostname":"(node\\.a\\.example|node\\.b\\.example)"}"#) == ["node.a.example", "node.b.example"])
            #expect(try await hosts(#"{"hostname":["node\\.a\\.example","node\\.b\\.example"]}"#) == ["node.a.example", "node.b.example"])
            // "All", and Grafana's $__all.
            #expect(try await hosts(#"{"hostname":"All"}"#) == ["node.a.example", "node.b.example"])
            #expect(try await hosts(#"{"hostname":"$__all"}"#) == ["node.a.example", "node.b.example"])
            // Anchored: a prefix does not match.
            #expect(try await hosts(#"{"hostname":"node\\.a"}"#).isEmpty)
            // A literal value that is not a valid regex is taken as it is.
            #expect(try await hosts(#"{"hostname":"node.a.example("}"#).isEmpty)
            // Code mode stores the payload as a string holding JSON.
            #expect(try await hosts(#""{\"uuid\":\"GPU-10\"}""#) == ["node.b.example"])
        }
    }

    @Test func everyAdHocOperatorIsHandledNoneFailsThePanel() async throws {
        try await TestServer.with(ingestSample: false) { server in
            try await Self.seed(server.db)
            func uuids(_ filters: String) async throws -> (Int, [String], String?) {
                let reply = try await server.post("/grafana/query", Self.body(targets: #"[{"refId":"A","target":"DCGM_FI_DEV_GPU_UTIL"}]"#, filters: filters))
                let names = try (reply.array() as? [[String: Any]] ?? []).compactMap { ($0["tags"] as? [String: String])?["UUID"] }.sorted()
                return (reply.status, names, reply.header("Warning"))
            }
            #expect(try await uuids(#"[{"key":"UUID","operator":"=|","value":"","values":["GPU-00","GPU-11"]}]"#).1 == ["GPU-00", "GPU-11"])
            #expect(try await uuids(#"[{"key":"UUID","operator":"!=|","values":["GPU-00","GPU-11"]}]"#).1 == ["GPU-01", "GPU-10"])
            #expect(try await uuids(#"[{"key":"gpu","operator":">","value":"0"}]"#).1 == ["GPU-01", "GPU-11"])
            #expect(try await uuids(#"[{"key":"gpu","operator":"<","value":"1"}]"#).1 == ["GPU-00", "GPU-10"])
            #expect(try await uuids(#"[{"key":"gpu","operator":">","value":"5"}]"#).1.isEmpty)
            let unknown = try await uuids(#"[{"key":"gpu","operator":"~~","value":"1"}]"#)
            #expect(unknown.0 == 200)
            #expect(unknown.1.count == 4)
            #expect(unknown.2?.contains("not supported") == true)
            let notNumber = try await uuids(#"[{"key":"gpu","operator":"<","value":"abc"}]"#)
            #expect(notNumber.0 == 200)
            #expect(notNumber.2 != nil)
        }
    }

    @Test func refIdAliasAndTags() async throws {
        try await TestServer.with(ingestSample: false) { server in
            try await Self.seed(server.db)
            let reply = try await server.post("/grafana/query", Self.body(targets: #"""
                [{"refId":"B","target":"DCGM_FI_DEV_GPU_UTIL","payload":{"uuid":"GPU-0(0|1)"},"alias":"{{Hostname}} GPU {{gpu}}"},
                 {"refId":"C","target":"DCGM_FI_DEV_GPU_UTIL","payload":{"uuid":"GPU-11"},"alias":"util"}]
                """#))
            let series = try #require(try reply.array() as? [[String: Any]])
            #expect(series.map { $0["refId"] as? String } == ["B", "B", "C"])
            #expect(series.compactMap { $0["target"] as? String } == ["node.a.example GPU 0", "node.a.example GPU 1", "util"])
            #expect((series[2]["tags"] as? [String: String]) == ["Hostname": "node.b.example", "UUID": "GPU-11", "gpu": "1"])
        }
    }

    @Test func annotationsOfXIDErrorsAndGPUsAppearing() async throws {
        try await TestServer.with(ingestSample: false) { server in
            try await Self.seed(server.db)
            // How the plugin asks since 2022: a /query target.
            let reply = try await server.post("/grafana/query", Self.body(targets: #"[{"refId":"Anno","target":"gpu_events","payload":{"uuid":"GPU-00"}}]"#))
            #expect(reply.status == 200, "\(reply.text)")
            let frames = try #require(try reply.array() as? [[String: Any]])
            let frame = try #require(frames.first)
            #expect(frame["refId"] as? String == "Anno")
            #expect((frame["columns"] as? [[String: Any]])?.compactMap { $0["text"] as? String } == ["time", "title", "text", "tags"])
            let rows = try #require(frame["rows"] as? [[Any]])
            let titles = rows.compactMap { $0[1] as? String }
            // XID 79 at i=2, XID 48 at i=5 (repeats are one event), the GPU's first sample, and
            // its last one (2025, long silent).
            #expect(titles == ["GPU appeared", "XID 79", "XID 48", "GPU silent"])
            #expect((rows[1][0] as? NSNumber)?.int64Value == (Self.t0 + 2_000_000_000) / 1_000_000)
            #expect((rows[1][3] as? String)?.contains("node.a.example") == true)
            // The older simple-json /annotations gets the same events.
            let legacy = try await server.post("/grafana/annotations", #"""
                {"range":{"from":"2025-07-18T20:42:00.000Z","to":"2025-07-18T20:43:00.000Z"},
                 "annotation":{"name":"xid","query":"{\"uuid\":\"GPU-00\"}"}}
                """#)
            let events = try #require(try legacy.array() as? [[String: Any]])
            #expect(events.compactMap { $0["title"] as? String } == ["GPU appeared", "XID 79", "XID 48", "GPU silent"])
            #expect((events[1]["tags"] as? [String])?.contains("xid") == true)
        }
    }

    /// node.c.example as three writers label it: newer dcgm-exporter (`hostname`, `UUID`),
    /// Telegraf's nvidia_smi (`host`, `uuid`, `index`), and a script (`Hostname`, `uuid`).
    static func seedMixedSpellings(_ db: TSDB) async throws {
        var samples: [LabeledSample] = []
        let writers: [(labels: [String: String], value: Double)] = [
            (["hostname": "node.c.example", "UUID": "GPU-20", "gpu": "0"], 30),
            (["host": "node.c.example", "uuid": "GPU-21", "index": "1"], 50),
            (["Hostname": "node.c.example", "uuid": "GPU-22", "gpu_id": "2"], 70),
        ]
        for w in writers {
            for i in 0..<10 {
                var labels = w.labels
                labels["__name__"] = "DCGM_FI_DEV_GPU_UTIL"
                samples.append(LabeledSample(labels: Labels(labels), timestamp: t0 + Int64(i) * 1_000_000_000, value: w.value))
            }
        }
        _ = try await db.append(samples)
    }

    @Test func filtersMatchEverySpellingOfTheAliasTable() async throws {
        try await TestServer.with(ingestSample: false) { server in
            try await Self.seed(server.db)
            try await Self.seedMixedSpellings(server.db)
            func values(_ target: String, filters: String = "[]") async throws -> [Double] {
                let reply = try await server.post("/grafana/query", Self.body(targets: "[\(target)]", filters: filters))
                #expect(reply.status == 200, "\(reply.text)")
                return try (reply.array() as? [[String: Any]] ?? []).compactMap { ($0["datapoints"] as? [[Double]])?.first?.first }.sorted()
            }
            let util = #""target":"DCGM_FI_DEV_GPU_UTIL""#
            // The payload's host filter finds the host under all three spellings, in one panel.
            #expect(try await values(#"{"refId":"A",\#(util),"payload":{"hostname":"node\\.c\\.example"}}"#) == [30, 50, 70])
            #expect(try await values(#"{"refId":"A",\#(util),"payload":{"host":"node\\.c\\.example"}}"#) == [30, 50, 70])
            // UUID under `UUID` or `uuid`; the GPU index under `gpu`, `gpu_id` or `index`.
            #expect(try await values(#"{"refId":"A",\#(util),"payload":{"uuid":"(GPU-20|GPU-21)"}}"#) == [30, 50])
            #expect(try await values(#"{"refId":"A",\#(util),"payload":{"hostname":"node\\.c\\.example","gpu":"(1|2)"}}"#) == [50, 70])
            // Ad-hoc filters by any spelling, and negative ones keep the other hosts.
            #expect(try await values(#"{"refId":"A",\#(util)}"#, filters: #"[{"key":"Hostname","operator":"=","value":"node.c.example"}]"#) == [30, 50, 70])
            #expect(try await values(#"{"refId":"A",\#(util)}"#, filters: #"[{"key":"uuid","operator":"=|","values":["GPU-20","GPU-22"]}]"#) == [30, 70])
            #expect(try await values(#"{"refId":"A",\#(util)}"#, filters: #"[{"key":"host","operator":"!=","value":"node.c.example"}]"#) == [0, 1, 10, 11])
            // A host's average over all its GPUs is one series, merged across spellings.
            #expect(try await values(#"{"refId":"A",\#(util),"payload":{"hostname":"node\\.c\\.example","agg":"avg","group_by":[]}}"#) == [50])
            #expect(try await values(#"{"refId":"A",\#(util),"payload":{"hostname":"node\\.c\\.example","agg":"sum","group_by":[]}}"#) == [150])
            // Series keep the labels they were written with.
            let reply = try await server.post("/grafana/query", Self.body(targets: #"[{"refId":"A",\#(util),"payload":{"uuid":"GPU-21"}}]"#))
            let tags = try #require((try reply.array() as? [[String: Any]])?.first?["tags"] as? [String: String])
            #expect(tags == ["host": "node.c.example", "uuid": "GPU-21", "index": "1"])
        }
    }
}
