import Foundation
import Ingest
import Testing
import TSDB

/// Replays what Grafana 10/11's built-in Prometheus datasource sends for a DCGM-Exporter-style
/// dashboard (the panels of grafana.com 12239, queries written here, not copied): the
/// buildinfo/health probes, the `instance` and `gpu` variables (label values with `match[]`
/// and the older `/series` form), then each panel's `query_range` (form POST, aligned start)
/// and the stat/gauge instant queries, with `$instance`/`$gpu` interpolated as Grafana does
/// (a single value regex-escaped, several as `(a|b)`, All as `.*` or as the list). The data
/// arrives through remote_write over HTTP, as from a Prometheus scraping dcgm-exporter.
@Suite struct GrafanaPrometheusReplayTests {
    static let t0: Int64 = 1_752_871_200_000 // ms, a minute boundary
    static let points = 41 // every 15 s for 10 minutes
    static let fleet: [String: [String]] = ["10.0.0.1:9400": ["0", "1", "2"], "10.0.0.2:9400": ["0", "1"]]
    static let grafanaHeaders: [(String, String)] = [
        ("Authorization", "Basic " + Data("grafana:test-key".utf8).base64EncodedString()),
        ("X-Grafana-Org-Id", "1"), ("User-Agent", "Grafana/11.1.0"),
    ]

    /// The value each gauge reports for a GPU: distinct per metric, host and GPU.
    static func value(_ metric: String, host: Int, gpu: Int, step: Int) -> Double {
        switch metric {
        case "DCGM_FI_DEV_GPU_TEMP": return Double(40 + 10 * host + gpu)
        case "DCGM_FI_DEV_POWER_USAGE": return 250.5 + Double(100 * host + 10 * gpu)
        case "DCGM_FI_DEV_SM_CLOCK": return 1980
        case "DCGM_FI_DEV_GPU_UTIL": return Double((step + gpu) % 100)
        case "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE": return 0.25 + Double(gpu) / 10
        default: return Double(40_000 + 1000 * host + gpu) // DCGM_FI_DEV_FB_USED, MiB
        }
    }

    static let metrics = ["DCGM_FI_DEV_GPU_TEMP", "DCGM_FI_DEV_POWER_USAGE", "DCGM_FI_DEV_SM_CLOCK",
                          "DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", "DCGM_FI_DEV_FB_USED",
                          "DCGM_FI_DEV_MEM_COPY_UTIL"]

    /// One remote_write request per instance, labelled as dcgm-exporter 3.x through Prometheus.
    static func remoteWrite(_ server: TestServer) async throws {
        for (h, instance) in fleet.keys.sorted().enumerated() {
            var e = RemoteWriteEncoder()
            for gpuName in fleet[instance] ?? [] {
                let gpu = Int(gpuName) ?? 0
                for metric in metrics {
                    let samples = (0..<points).map { k in (t0 + Int64(k) * 15_000, value(metric, host: h, gpu: gpu, step: k)) }
                    e.series([
                        Label("Hostname", "dgx-\(h)"), Label("UUID", "GPU-\(h)-\(gpu)"), Label("__name__", metric),
                        Label("device", "nvidia\(gpu)"), Label("gpu", gpuName), Label("instance", instance),
                        Label("job", "dcgm-exporter"), Label("modelName", "NVIDIA H100 80GB HBM3"),
                    ], samples: samples)
                }
            }
            let reply = try await server.request("/prometheus/api/v1/write", method: .POST,
                                                 headers: RemoteWriteHTTPTests.remoteWriteHeaders,
                                                 body: Snappy.compress(e.bytes), contentType: "application/x-protobuf")
            #expect(reply.status == 204, "\(reply.text)")
        }
    }

    // MARK: Grafana's interpolation

    /// Grafana's `prometheusSpecialRegexEscape`: regex metacharacters get a backslash that is
    /// itself escaped for the PromQL string literal.
    static func regexEscape(_ s: String) -> String {
        var out = ""
        for c in s {
            if c == "\\" { out += "\\\\\\\\" } else if "$^*{}[]'+?.()|".contains(c) { out += "\\\\" + String(c) } else { out.append(c) }
        }
        return out
    }

    enum Selection {
        case values([String])
        case allCustom // includeAll with custom all value `.*`
        func interpolated() -> String {
            switch self {
            case .allCustom: return ".*"
            case .values(let v) where v.count == 1: return regexEscape(v[0])
            case .values(let v): return "(" + v.map(regexEscape).joined(separator: "|") + ")"
            }
        }
    }

    struct Panel: Decodable {
        var title: String
        var expr: String
        var perGPU: Bool // false: an aggregate, one series
        var instant: Bool // stat/gauge panels also ask for the instant value
    }

    struct Variable: Decodable {
        var name: String
        var label: String
        var match: String
    }

    /// The dashboard's requests, shared with prometheus_remote_write.sh (one source of truth).
    struct Dashboard: Decodable {
        var variables: [Variable]
        var panels: [Panel]
    }

    static func dashboard() throws -> Dashboard {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("dcgm_dashboard_12239.json")
        return try JSONDecoder().decode(Dashboard.self, from: Data(contentsOf: file))
    }

    // MARK: Requests

    static func data(_ reply: TestServer.Reply, _ what: String) throws -> Any? {
        #expect(reply.status == 200, "\(what): \(reply.text.prefix(300))")
        let o = try reply.object()
        #expect(o["status"] as? String == "success", "\(what)")
        return o["data"]
    }

    static func labelValues(_ server: TestServer, _ name: String, match: String, start: Int64, end: Int64) async throws -> [String] {
        let path = "/prometheus/api/v1/label/\(name)/values?match%5B%5D=\(encode(match))&start=\(start)&end=\(end)"
        return try data(try await server.get(path, headers: grafanaHeaders), path) as? [String] ?? []
    }

    /// Grafana before `/label/<name>/values` supported `match[]`: `/series`, values picked client-side.
    static func seriesValues(_ server: TestServer, _ name: String, match: String, start: Int64, end: Int64) async throws -> [String] {
        let path = "/prometheus/api/v1/series?match%5B%5D=\(encode(match))&start=\(start)&end=\(end)"
        let list = try data(try await server.get(path, headers: grafanaHeaders), path) as? [[String: String]] ?? []
        return Set(list.compactMap { $0[name] }).sorted()
    }

    /// `(metric labels, values)` of each result series of a form-POSTed query.
    static func post(_ server: TestServer, _ path: String, _ form: [(String, String)]) async throws -> [([String: String], [String])] {
        let body = form.map { "\($0.0)=\(encode($0.1))" }.joined(separator: "&")
        let reply = try await server.post(path, body, contentType: "application/x-www-form-urlencoded", headers: grafanaHeaders)
        let d = try data(reply, "\(path) \(form.first?.1 ?? "")") as? [String: Any]
        let result = d?["result"] as? [[String: Any]] ?? []
        return result.map { r in
            let metric = r["metric"] as? [String: String] ?? [:]
            let points = (r["values"] as? [[Any]]) ?? (r["value"] as? [Any]).map { [$0] } ?? []
            return (metric, points.compactMap { $0.last as? String })
        }
    }

    // MARK: The replay

    @Test func dcgmDashboardWorksUnchangedOnThePrometheusDatasource() async throws {
        try await TestServer.with(ingestSample: false) { server in
            try await Self.remoteWrite(server)
            let instances = Self.fleet.keys.sorted()
            let start = Self.t0 / 1000, end = start + 600

            // Datasource save & test: buildinfo, then `1+1`.
            #expect(try await server.get("/prometheus/api/v1/status/buildinfo", headers: Self.grafanaHeaders).status == 200)
            let health = try await server.post("/prometheus/api/v1/query", "query=1%2B1&time=\(end)",
                                               contentType: "application/x-www-form-urlencoded", headers: Self.grafanaHeaders)
            #expect(health.text == #"{"status":"success","data":{"resultType":"scalar","result":[\#(end),"2"]}}"#)

            // Variables: instance, then gpu for each instance chosen.
            let board = try Self.dashboard()
            #expect(board.variables.map(\.name) == ["instance", "gpu"] && board.panels.count == 8)
            let instanceVar = board.variables[0], gpuVar = board.variables[1]
            #expect(try await Self.labelValues(server, instanceVar.label, match: instanceVar.match, start: start, end: end) == instances)
            #expect(try await Self.seriesValues(server, instanceVar.label, match: instanceVar.match, start: start, end: end) == instances)
            for instance in instances {
                let match = gpuVar.match.replacingOccurrences(of: "$instance", with: instance)
                #expect(try await Self.labelValues(server, gpuVar.label, match: match, start: start, end: end) == Self.fleet[instance])
                #expect(try await Self.seriesValues(server, gpuVar.label, match: match, start: start, end: end) == Self.fleet[instance])
            }

            // Selections a user makes: (instance, gpu) → the GPUs selected.
            let allPairs = instances.flatMap { i in (Self.fleet[i] ?? []).map { (i, $0) } }
            let cases: [(Selection, Selection, [(String, String)])] = [
                (.values([instances[0]]), .allCustom, allPairs.filter { $0.0 == instances[0] }),
                (.values(instances), .values(["0", "1"]), allPairs.filter { $0.1 != "2" }),
                (.values([instances[0]]), .values(["2"]), [(instances[0], "2")]),
                (.allCustom, .values(["0", "1", "2"]), allPairs),
                (.values(instances), .allCustom, allPairs),
                (.values([instances[1]]), .values(["2"]), []),
            ]
            for (instanceSel, gpuSel, expected) in cases {
                for panel in board.panels {
                    let expr = panel.expr.replacingOccurrences(of: "$instance", with: instanceSel.interpolated())
                        .replacingOccurrences(of: "$gpu", with: gpuSel.interpolated())
                    try await Self.checkPanel(server, panel, expr: expr, expected: expected, start: start, end: end)
                }
            }
        }
    }

    static func checkPanel(_ server: TestServer, _ panel: Panel, expr: String, expected: [(String, String)],
                           start: Int64, end: Int64) async throws {
        // Grafana aligns the range to the step (15 s here: the interval at this width).
        let step: Int64 = 15, from = (start + 60) / 15 * 15, to = end / 15 * 15
        let steps = Int((to - from) / step) + 1
        let range = try await post(server, "/prometheus/api/v1/query_range",
                                   [("query", expr), ("start", "\(from)"), ("end", "\(to)"), ("step", "\(step)")])
        var replies = [("range", range, steps)]
        if panel.instant {
            replies.append(("instant", try await post(server, "/prometheus/api/v1/query", [("query", expr), ("time", "\(to)")]), 1))
        }
        for (kind, result, count) in replies {
            let context = "\(panel.title) \(kind): \(expr)"
            if !panel.perGPU {
                #expect(result.count == (expected.isEmpty ? 0 : 1), "\(context)")
                guard let only = result.first else { continue }
                #expect(only.0.isEmpty, "\(context): an aggregate without by() has no labels")
                #expect(only.1.count == count, "\(context)")
                let perGPU = expected.map { (i, g) in Self.value(panel.title.contains("Temp") ? "DCGM_FI_DEV_GPU_TEMP" : "DCGM_FI_DEV_POWER_USAGE",
                                                                  host: Self.fleet.keys.sorted().firstIndex(of: i) ?? 0, gpu: Int(g) ?? 0, step: 0) }
                let want = panel.title.contains("Temp") ? perGPU.reduce(0, +) / Double(perGPU.count) : perGPU.reduce(0, +)
                #expect(only.1.allSatisfy { abs((Double($0) ?? .nan) - want) < 1e-9 }, "\(context): \(only.1.prefix(3)) vs \(want)")
                continue
            }
            let got = result.map { "\($0.0["instance"] ?? "?")/\($0.0["gpu"] ?? "?")" }.sorted()
            #expect(got == expected.map { "\($0.0)/\($0.1)" }.sorted(), "\(context)")
            for (metric, values) in result {
                #expect(values.count == count, "\(context): \(metric)")
                #expect(values.allSatisfy { Double($0)?.isFinite == true }, "\(context)")
                #expect(metric["UUID"]?.hasPrefix("GPU-") == true && metric["modelName"] == "NVIDIA H100 80GB HBM3", "\(context)")
                if expr.contains("* 1000000") {
                    #expect(metric["__name__"] == nil, "\(context): arithmetic drops the metric name")
                    #expect(values.allSatisfy { Double($0) == 1.98e9 }, "\(context)")
                } else {
                    #expect(metric["__name__"] != nil, "\(context)")
                }
            }
        }
    }

    /// The chart's own dashboard (deploy/helm/telemetry-stack/dashboards/gpu-promql.json), each
    /// target replayed with All (`.*`) and with a two-GPU selection.
    @Test func chartDashboardQueriesAnswerPerGPU() async throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let file = repo.appendingPathComponent("deploy/helm/telemetry-stack/dashboards/gpu-promql.json")
        let board = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
        let targets = (board["panels"] as? [[String: Any]] ?? []).flatMap { panel in
            (panel["targets"] as? [[String: Any]] ?? []).map { (panel["title"] as? String ?? "?", $0) }
        }
        #expect(targets.count >= 8)
        try await TestServer.with(ingestSample: false) { server in
            try await Self.remoteWrite(server)
            let start = Self.t0 / 1000, end = start + 600
            let instances = Self.fleet.keys.sorted()
            let allPairs = instances.flatMap { i in (Self.fleet[i] ?? []).map { (i, $0) } }
            for (instanceSel, gpuSel, expected) in [(Selection.allCustom, Selection.allCustom, allPairs),
                                                    (.values(instances), .values(["1", "2"]), allPairs.filter { $0.1 != "0" })] {
                for (title, target) in targets {
                    let raw = try #require(target["expr"] as? String, "\(title)")
                    let expr = raw.replacingOccurrences(of: "$instance", with: instanceSel.interpolated())
                        .replacingOccurrences(of: "$gpu", with: gpuSel.interpolated())
                    if raw.hasPrefix("sum by (instance)") {
                        let r = try await Self.post(server, "/prometheus/api/v1/query_range",
                                                    [("query", expr), ("start", "\(start)"), ("end", "\(end)"), ("step", "30")])
                        #expect(r.map { $0.0["instance"] ?? "?" }.sorted() == Set(expected.map(\.0)).sorted(), "\(title)")
                        continue
                    }
                    let isAggregate = raw.hasPrefix("sum(") || raw.hasPrefix("avg(")
                    let panel = Panel(title: title, expr: raw, perGPU: !isAggregate, instant: target["instant"] as? Bool ?? false)
                    try await Self.checkPanel(server, panel, expr: expr, expected: expected, start: start, end: end)
                }
            }
        }
    }
}
