@testable import APIServer
import Foundation
import Hummingbird
import Logging
import Prometheus
import Testing
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

/// Sends one HTTP/1.1 request with the target exactly as given (no client-side normalisation,
/// like `curl --path-as-is`) and returns the status code of the reply. The blocking socket
/// work runs on a Dispatch thread: blocking a thread of Swift's small cooperative pool would
/// starve the server under test, which runs in this process.
func rawStatus(port: Int, method: String, target: String, headers: [(String, String)] = [], body: String = "") async throws -> Int {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(with: Result { try blockingRawStatus(port: port, method: method, target: target, headers: headers, body: body) })
        }
    }
}

private func blockingRawStatus(port: Int, method: String, target: String, headers: [(String, String)], body: String) throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestError("socket: \(errno)") }
    defer { close(fd) }
    var timeout = timeval(tv_sec: 10, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw TestError("connect: \(errno)") }
    var head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
    for (name, value) in headers { head += "\(name): \(value)\r\n" }
    head += "Content-Length: \(body.utf8.count)\r\n\r\n"
    let bytes = Array((head + body).utf8)
    var sent = 0
    while sent < bytes.count {
        let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard n > 0 else { throw TestError("send: \(errno)") }
        sent += n
    }
    // Only the status line is needed ("HTTP/1.1 401 ..."); a stream route never ends its body.
    var reply: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 1024)
    while !reply.contains(UInt8(ascii: "\n")) {
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { break }
        reply.append(contentsOf: buffer[..<n])
    }
    let line = String(decoding: reply.prefix { $0 != UInt8(ascii: "\r") }, as: UTF8.self)
    let fields = line.split(separator: " ")
    guard fields.count >= 2, let status = Int(fields[1]) else { throw TestError("no status line for \(method) \(target): \(line)") }
    return status
}
