@testable import APIServer
import Foundation
import Hummingbird
import Logging
import Prometheus
import Testing
import TelemetryTestSupport
import TSDB

#if canImport(Glibc)
import Glibc
#endif

/// Access is decided from the route the router matched: no spelling of a protected path
/// reaches its handler without the credential, and nothing is stored through one.
@Suite struct RouteAccessTests {
    static let uuid = "GPU-5fd4f087-86f3-7a43-b711-4771313afc50"

    /// Every route the router registers is in ``RouteTable`` with its method, and every route
    /// of the table is registered: a new route cannot be added without deciding its class.
    @Test func everyRegisteredRouteIsInTheTable() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("routes-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var options = TSDBOptions(directory: dir)
        options.backgroundMaintenance = false
        let db = try await TSDB.open(options)
        let router = buildAPIRouter(db: db, config: TestServer.config(), registry: PrometheusCollectorRegistry(),
                                    logger: Logger(label: "routes"))
        var registered: Set<String> = []
        for route in router.routes {
            let key = route.path.description
            registered.insert(key)
            let entry = RouteTable.byEndpointPath[key]
            #expect(entry != nil, "route \(route) is registered but not in RouteTable")
            #expect(entry?.methods.contains(route.method) == true || (route.method == .head && entry?.methods.contains(.get) == true),
                    "RouteTable lists \(key) without \(route.method)")
        }
        for route in RouteTable.routes {
            #expect(registered.contains(route.endpointPath), "RouteTable lists \(route.template), which the router does not serve")
        }
        #expect(RouteTable.routes.count >= 30)
        try await db.close()
    }

    /// The OpenAPI document describes every route of the table (the static UI files aside),
    /// so a route cannot be added without its documentation either.
    @Test func everyRouteIsDocumented() async throws {
        try await TestServer.with(ingestSample: false) { server in
            let doc = try await server.get("/openapi.json", headers: []).object()
            let paths = try #require(doc["paths"] as? [String: Any])
            let undocumented: Set<String> = ["/", "/ui/**", "/docs/{file}", "/openapi.json", "/ping"]
            for route in RouteTable.routes {
                var path = route.endpointPath
                if path == "/grafana" { path = "/grafana/" }
                guard !undocumented.contains(path) else { continue }
                let operations = paths[path] as? [String: Any]
                #expect(operations != nil, "\(path) is not in /openapi.json")
                for method in route.methods where method != .head {
                    #expect(operations?[method.rawValue.lowercased()] != nil, "\(method) \(path) is not in /openapi.json")
                }
            }
        }
    }

    /// A concrete path for a template (parameters filled in).
    static func concrete(_ template: String) -> String {
        let parts = template.split(separator: "/").map { part -> String in
            if part == "**" { return "index.html" }
            if part.hasPrefix(":") { return part == ":hostname" ? "host-1" : uuid }
            return String(part)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// Other spellings of a path: ones the router resolves to the same route and ones it does not.
    static func spellings(of path: String) -> [String] {
        let inner = String(path.dropFirst())
        let first = String(inner.prefix(1))
        let rest = String(inner.dropFirst())
        let hex = String(format: "%02X", Int(inner.utf8.first ?? 0))
        var out: [String] = [path, "/" + path, "//" + inner + "/", path + "/", path + "//"]
        out += ["/./" + inner, "/x/../" + inner, "/ui/../" + inner, "/docs/../" + inner]
        out += [path.uppercased(), "/" + first.uppercased() + rest]
        out += ["/%2F" + inner, path.replacingOccurrences(of: "/", with: "%2F"), "/%" + hex + rest]
        out += [path + "?x=1", path + "%00", path + ";x", path + "#frag"]
        if let slash = inner.firstIndex(of: "/") {
            let head = String(inner[..<slash])
            let tail = String(inner[inner.index(after: slash)...])
            out += ["/" + head + "//" + tail, "/" + head + "/./" + tail, "/" + head + "%2F" + tail, "/" + head + "/x/../" + tail]
        }
        return out
    }

    /// A body each write route would store: `bypass_probe` must never appear.
    static func body(for template: String) -> (String, String) {
        switch template {
        case "internal/v1/write":
            let header = "timestamp,metric_name,gpu_id,device,uuid,modelName,Hostname,container,pod,namespace,value,labels_raw"
            return ("text/csv", header + "\n2025-07-18T20:42:34Z,bypass_probe,0,nvidia0,\(uuid),H100,h1,,,,1,\n")
        case "telemetry":
            return ("application/json", #"[{"metric":"bypass_probe","labels":{"a":"b"},"value":1}]"#)
        default:
            return ("text/plain", "bypass_probe value=1\n")
        }
    }

    @Test func noSpellingOfAProtectedRouteAnswersWithoutItsCredential() async throws {
        var config = TestServer.config()
        config.serviceToken = "service-secret"
        try await TestServer.with(config: config) { server in
            let before = server.db.labelValues("__name__")
            var tried = 0
            for route in RouteTable.routes where route.access != .open {
                for method in route.methods {
                    for target in Self.spellings(of: Self.concrete(route.template)) {
                        let (type, body) = method == .post ? Self.body(for: route.template) : ("", "")
                        let status = try await rawStatus(port: server.port, method: method.rawValue, target: target,
                                                   headers: method == .post ? [("Content-Type", type)] : [], body: body)
                        tried += 1
                        #expect([400, 401, 404].contains(status), "\(method) \(target) answered \(status) without a credential")
                        // A wrong key and, for the internal route, an API key instead of the token.
                        let wrong = route.access == .serviceToken ? "test-key" : "not-the-key"
                        let withWrong = try await rawStatus(port: server.port, method: method.rawValue, target: target,
                                                      headers: [("Authorization", "Bearer \(wrong)")] + (method == .post ? [("Content-Type", type)] : []),
                                                      body: body)
                        // An API key is a valid credential for a path that matched no route, which
                        // then gets 405 (no handler); it never opens the service-token route.
                        let allowed = route.access == .serviceToken ? [400, 401, 404, 405] : [400, 401, 404]
                        #expect(allowed.contains(withWrong), "\(method) \(target) answered \(withWrong) with a wrong credential")
                    }
                }
            }
            #expect(tried > 500)
            let after = server.db.labelValues("__name__")
            #expect(after == before)
            #expect(!after.contains("bypass_probe"))
            // The test reaches the handlers when the credential is right: the canonical spelling is served.
            for route in RouteTable.routes where route.access != .open {
                let credential = route.access == .serviceToken ? "service-secret" : "test-key"
                for method in route.methods {
                    let (type, body) = method == .post ? Self.body(for: route.template) : ("", "")
                    let status = try await rawStatus(port: server.port, method: method.rawValue, target: Self.concrete(route.template),
                                               headers: [("Authorization", "Bearer \(credential)")] + (method == .post ? [("Content-Type", type)] : []),
                                               body: body)
                    #expect(status != 401 && status != 403, "\(method) \(route.template) refused the right credential (\(status))")
                }
            }
            #expect(server.db.labelValues("__name__").contains("bypass_probe"))
        }
    }

    @Test func openRoutesStayOpenAndUnknownPathsNeedAKey() async throws {
        try await TestServer.with(ingestSample: false) { server in
            for target in ["/health", "//health", "/health/", "/ready", "/metrics", "/openapi.json", "/docs", "/", "/ui/index.html"] {
                let status = try await rawStatus(port: server.port, method: "GET", target: target)
                #expect(status == 200, "GET \(target) answered \(status)")
            }
            #expect(try await rawStatus(port: server.port, method: "GET", target: "/no/such/route") == 401)
            #expect(try await rawStatus(port: server.port, method: "GET", target: "/no/such/route", headers: [("X-API-Key", "test-key")]) == 404)
            // A known path with another method: 405 once authenticated, 401 before.
            #expect(try await rawStatus(port: server.port, method: "DELETE", target: "/api/v1/gpus") == 401)
            #expect(try await rawStatus(port: server.port, method: "DELETE", target: "/api/v1/gpus", headers: [("X-API-Key", "test-key")]) == 405)
            #expect(try await rawStatus(port: server.port, method: "POST", target: "/health") == 401)
            #expect(try await rawStatus(port: server.port, method: "POST", target: "/health", headers: [("X-API-Key", "test-key")]) == 405)
        }
    }
}
