import Testing

@Suite struct InventoryTests {
    @Test func gpusHostsAndPagination() async throws {
        try await TestServer.with { server in
            let all = try await server.get("/api/v1/gpus?limit=1000")
            #expect(all.status == 200)
            let body = try all.object()
            #expect(body["count"] as? Int == 247)
            #expect(body["total"] as? Int == 247)
            #expect(body["next_cursor"] is NSNull)
            let gpus = try #require(body["gpus"] as? [[String: Any]])
            let uuids = gpus.compactMap { $0["uuid"] as? String }
            #expect(Set(uuids).count == 247)
            #expect(uuids == uuids.sorted())
            #expect(gpus.allSatisfy { $0["hostname"] is String && $0["model_name"] is String && $0["gpu_id"] is String })

            // Pages of 100 with the cursor cover every GPU once.
            var seen: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let path = "/api/v1/gpus?limit=100" + (cursor.map { "&cursor=\(encode($0))" } ?? "")
                let page = try await server.get(path).object()
                seen += (page["gpus"] as? [[String: Any]] ?? []).compactMap { $0["uuid"] as? String }
                cursor = page["next_cursor"] as? String
                pages += 1
            } while cursor != nil && pages < 10
            #expect(pages == 3)
            #expect(seen == uuids)

            let hosts = try await server.get("/api/v1/hosts?limit=1000").object()
            #expect(hosts["total"] as? Int == 31)
            let host = (hosts["hosts"] as? [[String: Any]])?.first { $0["hostname"] as? String == "mtv5-dgx1-hgpu-012" }
            #expect(host?["gpu_count"] as? Int == 7)

            let hostGPUs = try await server.get("/api/v1/hosts/mtv5-dgx1-hgpu-012/gpus").object()
            #expect(hostGPUs["count"] as? Int == 7)
            #expect(hostGPUs["hostname"] as? String == "mtv5-dgx1-hgpu-012")
            let filtered = try await server.get("/api/v1/gpus?hostname=mtv5-dgx1-hgpu-012").object()
            #expect(filtered["total"] as? Int == 7)

            let one = try await server.get("/api/v1/gpus/\(uuids[0])")
            #expect(one.status == 200)
            #expect(try one.object()["uuid"] as? String == uuids[0])

            let metrics = try await server.get("/api/v1/metrics").object()
            #expect((metrics["total"] as? Int ?? 0) > 0)
            let namespaces = try await server.get("/api/v1/namespaces")
            #expect(namespaces.status == 200)
        }
    }

    @Test func notFoundAndBadRequests() async throws {
        try await TestServer.with { server in
            let missing = try await server.get("/api/v1/gpus/GPU-does-not-exist")
            #expect(missing.status == 404)
            #expect(try missing.errorCode() == "not_found")
            #expect(try await server.get("/api/v1/hosts/nohost/gpus").status == 404)
            // 400 before 404: a bad limit on an unknown host is a 400.
            #expect(try await server.get("/api/v1/hosts/nohost/gpus?limit=0").status == 400)
            let badLimit = try await server.get("/api/v1/gpus?limit=100001")
            #expect(badLimit.status == 400)
            #expect(try badLimit.errorCode() == "bad_request")
            #expect(try await server.get("/api/v1/gpus?limit=abc").status == 400)
            #expect(try await server.get("/api/v1/gpus?cursor=!!").status == 400)
            let unknownRoute = try await server.get("/api/v1/nothing")
            #expect(unknownRoute.status == 404)
            #expect(try unknownRoute.errorCode() == "not_found")
            let wrongMethod = try await server.request("/api/v1/gpus", method: .DELETE)
            #expect(wrongMethod.status == 405)
            #expect(wrongMethod.header("Allow") == "GET, HEAD")
        }
    }
}

import Foundation
