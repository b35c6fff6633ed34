import AsyncHTTPClient
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import Broker
import TelemetryTestSupport

/// Spellings of `path` a router or a proxy in front of it might resolve to the same route.
func spellings(of path: String) -> [String] {
    let name = String(path.dropFirst())
    let first = name.first.map(String.init) ?? ""
    let hex = String(format: "%%%02X", Int(first.utf8.first ?? 0))
    return [
        path, "/" + path, "//" + name + "/", path + "/", path + "//", "///" + name,
        "/." + path, "/./" + name, "/x/.." + path, "/%2E" + path, "/" + hex + name.dropFirst(), "%2F" + name,
        "/%2F" + name, path + "%2F", path.uppercased(), "/" + name.prefix(1).uppercased() + name.dropFirst(),
        path + ";x", path + "%00", path + "/.", path + "/..",
    ]
}

@Suite("Service token on every broker and proxy route, however the path is spelled")
struct AuthTests {
    static let token = "s3cret-token-for-tests"
    static let query = "?topic=authwalk&partition=0&group=g"

    func walk(_ table: [RouteEntry], port: Int, label: String) async {
        for entry in table {
            for target in spellings(of: entry.path) {
                for auth in [[], [("Authorization", "Bearer wrong")], [("Authorization", "Basic \(Self.token)")], [("X-API-Key", Self.token)]] {
                    let status = (try? await rawStatus(port: port, method: entry.method.rawValue, target: target + Self.query, headers: auth,
                                                 body: entry.method == .post ? Array("{\"ids\":[\"0-0\"]}".utf8) : [])) ?? 0
                    switch entry.access {
                    case .serviceToken:
                        // 400 only from the HTTP parser, for a target that does not start with "/".
                        #expect(status == 401 || status == 404 || (status == 400 && !target.hasPrefix("/")),
                                "\(label) \(entry.method) \(target) with \(auth): \(status)")
                        #expect(status != 0, "\(label) \(target): no answer")
                    case .open:
                        if target == entry.path { #expect(status == 200, "\(label) \(target): \(status)") }
                    }
                }
            }
        }
    }

    @Test("broker and proxy: 401 or 404 for every protected route and spelling without the token; nothing stored; 2xx with it")
    func everyRouteEverySpelling() async throws { try await withCleanup { cleanup in
        let b = try await RunningBroker.start { $0.serviceToken = Self.token }
        cleanup.add { await b.stop() }
        let proxy = try await RunningProxy.start(brokers: [b.url], token: Self.token)
        cleanup.add { await proxy.stop() }

        #expect(BrokerServer.routeTable.filter { $0.access == .open }.map(\.path).sorted() == ["/health", "/metrics", "/ready"])
        #expect(ProxyServer.routeTable.filter { $0.access == .open }.map(\.path).sorted() == ["/health", "/metrics", "/ready"])
        await walk(BrokerServer.routeTable, port: b.port, label: "broker")
        await walk(ProxyServer.routeTable, port: proxy.port, label: "proxy")
        // Nothing reached a handler: no topic was even created.
        #expect(await b.broker.topicsInfo().isEmpty)

        // With the token, the exact spellings work, directly and through the proxy.
        let auth = [("Authorization", "Bearer \(Self.token)")]
        for base in [b.url, proxy.url] {
            let ids = try await produceBatch(base, topic: "authwalk", partition: 0, [payload(1)], token: Self.token)
            #expect(ids.count == 1)
            #expect(try await http(.GET, base + "/topics", headers: auth).status == 200)
            var request = HTTPClientRequest(url: base + "/consume" + Self.query)
            request.headers.add(name: "Authorization", value: "Bearer \(Self.token)")
            let stream = try await httpClient.execute(request, timeout: Patience.replyTimeAmount)
            #expect(stream.status == .ok)
            _ = stream  // the stream ends with the server
        }
        #expect(try await http(.GET, proxy.url + "/status", headers: auth).status == 200)
        let records = try await b.broker.poll(topic: "authwalk", partition: 0, group: "direct", maxRecords: 10, wait: .seconds(1))
        #expect(records.count == 2)
        let body = try JSONSerialization.data(withJSONObject: ["ids": records.map(\.id)])
        let acked = try await http(.POST, b.url + "/ack?topic=authwalk&partition=0&group=direct", body: Array(body),
                                   headers: auth + [("Content-Type", "application/json")])
        #expect(acked.status == 200, "\(acked.text)")
    } }

    @Test("a wrong or missing token never acks: the record stays in flight")
    func unauthenticatedAckChangesNothing() async throws {
        try await withBroker({ $0.serviceToken = Self.token }) { b in
            _ = try await b.broker.produce(topic: "t", partition: 0, payloads: [payload(1)])
            let r = try await b.broker.poll(topic: "t", partition: 0, group: "g", maxRecords: 1, wait: .seconds(1))
            let body = Array(try JSONSerialization.data(withJSONObject: ["ids": r.map(\.id)]))
            for target in spellings(of: "/ack") {
                let status = (try? await rawStatus(port: b.port, method: "POST", target: target + "?topic=t&partition=0&group=g",
                                             headers: [("Content-Type", "application/json")], body: body)) ?? 0
                // 400: the HTTP parser refuses a target that does not start with "/".
                #expect(status == 401 || status == 404 || (status == 400 && !target.hasPrefix("/")), "\(target): \(status)")
            }
            let info = await b.broker.topicsInfo().first { $0.name == "t" }
            #expect(info?.partitions[0].groups.first?.pending == 1)
            #expect(info?.partitions[0].groups.first?.committed == 0)
        }
    }
}
