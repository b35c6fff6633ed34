import Foundation
import Hummingbird
import PromQL
import TSDB

/// The Prometheus HTTP query API under `/prometheus/api/v1/` (what Grafana's built-in
/// Prometheus datasource calls): `query`, `query_range`, `series`, `labels`,
/// `label/{name}/values`, `metadata`, `status/buildinfo`, by GET or by POST with a form body.
/// Bodies and errors have Prometheus' shapes (`{"status":"error","errorType":"bad_data",…}`
/// with 400, `execution` with 422, `timeout` with 503), not this API's own error shape.
extension APIHandlers {
    func addPrometheusRoutes(to group: RouterGroup<APIRequestContext>) {
        let engine = PromQLEngine(db: db, limits: queryLimits, logger: logger)
        for method in [HTTPRequest.Method.get, .post] {
            group.on("query", method: method) { request, _ in
                await prometheus(request) { form in
                    let query = form.string("query") ?? ""
                    let time = try form.string("time").map { v throws(PromQLError) in try PrometheusParameters.time(v, name: "time") } ?? Self.nowMillis()
                    let timeout = try timeoutParameter(form)
                    let withStats = form.string("stats") != nil
                    return try await offload {
                        let (value, stats) = try engine.instantQuery(query, time: time, timeout: timeout)
                        return PrometheusJSON.query(value, stats: withStats ? stats : nil)
                    }
                }
            }
            group.on("query_range", method: method) { request, _ in
                await prometheus(request) { form in
                    let start = try PrometheusParameters.time(form.string("start") ?? "", name: "start")
                    let end = try PrometheusParameters.time(form.string("end") ?? "", name: "end")
                    let step = try PrometheusParameters.duration(form.string("step") ?? "", name: "step")
                    let query = form.string("query") ?? ""
                    let timeout = try timeoutParameter(form)
                    let withStats = form.string("stats") != nil
                    return try await offload {
                        let (value, stats) = try engine.rangeQuery(query, start: start, end: end, step: step, timeout: timeout)
                        let grid = (start: start, step: step, count: Int((end - start) / step) + 1)
                        return PrometheusJSON.query(value, stats: withStats ? stats : nil, grid: grid)
                    }
                }
            }
            group.on("series", method: method) { request, _ in
                await prometheus(request) { form in
                    let selectors = form.all("match[]")
                    guard !selectors.isEmpty else { throw PromQLError.badData("no match[] parameter provided") }
                    let sets = try seriesSets(selectors, form)
                    return PrometheusJSON.series(sets)
                }
            }
            group.on("labels", method: method) { request, _ in
                await prometheus(request) { form in
                    let selectors = form.all("match[]")
                    if selectors.isEmpty {
                        // Prometheus lists the names of the series with samples in the window.
                        guard let w = try window(form) else { return PrometheusJSON.strings(db.labelNames()) }
                        return PrometheusJSON.strings(db.labelNames(overlapping: w.from, w.to))
                    }
                    return PrometheusJSON.strings(try labelStrings(selectors, value: nil, form))
                }
            }
            group.on("label/:name/values", method: method) { request, context in
                await prometheus(request) { form in
                    let name = try pathParameter(context, "name")
                    let selectors = form.all("match[]")
                    if selectors.isEmpty {
                        guard let w = try window(form) else { return PrometheusJSON.strings(db.labelValues(name)) }
                        return PrometheusJSON.strings(db.labelValues(name, overlapping: w.from, w.to))
                    }
                    return PrometheusJSON.strings(try labelStrings(selectors, value: name, form))
                }
            }
        }
        group.get("metadata") { request, _ in
            // Samples arrive without HELP/TYPE here, so there is no metadata to give.
            await prometheus(request) { _ in PrometheusJSON.object([]) }
        }
        group.get("status/buildinfo") { request, _ in
            await prometheus(request) { _ in
                PrometheusJSON.object([("version", "2.42.0"), ("revision", "telemetry"), ("branch", "telemetry"),
                                       ("buildUser", "telemetry"), ("buildDate", "20260101-00:00:00"), ("goVersion", "swift")])
            }
        }
    }

    static func nowMillis() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }

    private func timeoutParameter(_ form: PrometheusForm) throws(PromQLError) -> Duration {
        guard let text = form.string("timeout") else { return .seconds(120) }
        let ms = try PrometheusParameters.duration(text, name: "timeout")
        return .milliseconds(max(1, ms))
    }

    /// The series `match[]` selects, restricted to those with samples in [start, end] when
    /// either is given (Prometheus' default is all time).
    private func seriesSets(_ selectors: [String], _ form: PrometheusForm) throws -> [Labels] {
        let window = try window(form)
        var seen = Set<Labels>()
        var out: [Labels] = []
        for selector in selectors {
            let matchers = try PromQLEngine.matchers(selector)
            let sets: [Labels]
            if let window {
                // Which series have samples in the window: the catalog's postings and each
                // series' first and last sample time answer that without reading a chunk.
                do { sets = try db.series(matchers: matchers, overlapping: window.from, window.to, maxSeries: queryLimits?.maxSeries) }
                catch let e as TSDBError { throw PromQLError.execution(e.description) }
            } else {
                sets = db.series(matchers: matchers)
            }
            // One selector's series are distinct already: only a union needs the set.
            if selectors.count == 1 { out = sets; break }
            for s in sets where seen.insert(s).inserted { out.append(s) }
        }
        return out.sorted(by: Labels.promLess)
    }

    /// Label names (`value` nil) or the values of label `value` of the series `match[]`
    /// selects, restricted to the window as ``seriesSets(_:_:)`` is, sorted.
    private func labelStrings(_ selectors: [String], value: String?, _ form: PrometheusForm) throws -> [String] {
        let window = try window(form)
        let selections = try selectors.map { s throws(PromQLError) in try PromQLEngine.matchers(s) }
        do {
            return try db.labelStrings(of: selections, value: value, overlapping: window.map { ($0.from, $0.to) },
                                       maxSeries: window == nil ? nil : queryLimits?.maxSeries)
        } catch let e as TSDBError { throw PromQLError.execution(e.description) }
    }

    /// The request's `start`/`end` window in nanoseconds (the milliseconds of `end` taken
    /// whole), or nil when neither is given (Prometheus' default: all time). Times past what
    /// Int64 nanoseconds hold (after 2262 or before 1677; the parameters accept ±292 million
    /// years in milliseconds) saturate: such a window starts after, or ends before, all data.
    private func window(_ form: PrometheusForm) throws(PromQLError) -> (from: Int64, to: Int64)? {
        let start = try form.string("start").map { v throws(PromQLError) in try PrometheusParameters.time(v, name: "start") }
        let end = try form.string("end").map { v throws(PromQLError) in try PrometheusParameters.time(v, name: "end") }
        if start == nil && end == nil { return nil }
        func nanos(_ ms: Int64, plus extra: Int64) -> Int64 {
            let (ns, overflow) = ms.multipliedReportingOverflow(by: 1_000_000)
            if overflow { return ms < 0 ? .min : .max }
            let (sum, past) = ns.addingReportingOverflow(extra)
            return past ? .max : sum
        }
        return (start.map { nanos($0, plus: 0) } ?? .min, end.map { nanos($0, plus: 999_999) } ?? .max)
    }

    /// Runs a handler with the request's form (query string plus a urlencoded POST body) and
    /// turns every failure into Prometheus' error body.
    private func prometheus(_ request: Request, _ body: (PrometheusForm) async throws -> [UInt8]) async -> Response {
        do {
            var form = try PrometheusForm(request.uri.query ?? "")
            if request.method == .post {
                let type = BodyReader.mediaType(request)
                let bytes = try await BodyReader.read(request, limit: config.maxBodyBytes)
                if type == nil || type == "application/x-www-form-urlencoded" {
                    try form.add(String(decoding: bytes, as: UTF8.self))
                }
            }
            return Self.prometheusResponse(.ok, try await body(form))
        } catch let e as PromQLError {
            return Self.prometheusResponse(HTTPResponse.Status(code: e.httpStatus), PrometheusJSON.error(e))
        } catch let e as APIError {
            if e.status == .contentTooLarge { return Self.prometheusResponse(e.status, PrometheusJSON.error(.badData(e.message))) }
            return Self.prometheusResponse(.badRequest, PrometheusJSON.error(.badData(e.message)))
        } catch {
            return Self.prometheusResponse(.internalServerError, PrometheusJSON.error(.execution("\(error)")))
        }
    }

    private static func prometheusResponse(_ status: HTTPResponse.Status, _ bytes: [UInt8]) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

/// Form values of a Prometheus API request, from the query string and a urlencoded body.
struct PrometheusForm {
    private var pairs: [(String, String)] = []

    init(_ query: String) throws(APIError) { try add(query) }

    mutating func add(_ encoded: String) throws(APIError) {
        for part in encoded.split(separator: "&", omittingEmptySubsequences: true) {
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let value = kv.count > 1 ? try QueryParameters.decode(kv[1]) : ""
            pairs.append((try QueryParameters.decode(kv[0]), value))
        }
    }

    /// The first non-empty value (Go's `FormValue` takes the first).
    func string(_ name: String) -> String? {
        pairs.first { $0.0 == name && !$0.1.isEmpty }?.1
    }

    func all(_ name: String) -> [String] { pairs.filter { $0.0 == name && !$0.1.isEmpty }.map(\.1) }
}
