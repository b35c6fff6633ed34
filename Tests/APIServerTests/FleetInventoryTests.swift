import Foundation
import Testing
import TSDB

/// Inventory at fleet scale (issue 13): 16,000 GPUs on 2,000 hosts, paged with the cursor.
@Suite struct FleetInventoryTests {
    static let hosts = 2_000
    static let gpusPerHost = 8

    static func fleet(_ db: TSDB) async throws {
        var samples: [LabeledSample] = []
        samples.reserveCapacity(hosts * gpusPerHost * 2)
        for h in 0..<hosts {
            for g in 0..<gpusPerHost {
                for metric in ["DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_POWER_USAGE"] {
                    let labels = Labels(["__name__": metric, "UUID": "GPU-\(h)-\(g)", "Hostname": "node-\(h)", "gpu": String(g),
                                         "device": "nvidia\(g)", "modelName": "NVIDIA H100 80GB HBM3"])
                    samples.append(LabeledSample(labels: labels, timestamp: 1_752_871_354_000_000_000, value: Double(g)))
                }
            }
        }
        try await db.append(samples)
    }

    /// Follows `next_cursor` from the first page to the last; the items' `field` values in order.
    static func pageAll(_ server: TestServer, _ path: String, field: String, key: String, limit: Int) async throws -> (keys: [String], pages: Int, totals: Set<Int>) {
        var keys: [String] = []
        var cursor: String?
        var pages = 0
        var totals = Set<Int>()
        repeat {
            let sep = path.contains("?") ? "&" : "?"
            let reply = try await server.get(path + sep + "limit=\(limit)" + (cursor.map { "&cursor=\(encode($0))" } ?? ""))
            #expect(reply.status == 200)
            let page = try reply.object()
            let items = page[field] as? [[String: Any]] ?? []
            #expect(page["count"] as? Int == items.count)
            if let t = page["total"] as? Int { totals.insert(t) }
            keys += items.compactMap { $0[key] as? String }
            cursor = page["next_cursor"] as? String
            pages += 1
        } while cursor != nil && pages < 1_000
        return (keys, pages, totals)
    }

    @Test func sixteenThousandGPUsPageEveryGPUOnceInStableOrder() async throws {
        try await TestServer.with(ingestSample: false) { server in
            try await Self.fleet(server.db)
            let expected = (0..<Self.hosts).flatMap { h in (0..<Self.gpusPerHost).map { "GPU-\(h)-\($0)" } }.sorted()

            for limit in [1_000, 10_000, 777] {
                let (uuids, pages, totals) = try await Self.pageAll(server, "/api/v1/gpus", field: "gpus", key: "uuid", limit: limit)
                #expect(uuids == expected, "limit \(limit)")
                #expect(pages == (expected.count + limit - 1) / limit, "limit \(limit)")
                #expect(totals == [16_000])
            }
            // The same walk again gives the same order (nothing re-sorted differently per page).
            let again = try await Self.pageAll(server, "/api/v1/gpus", field: "gpus", key: "uuid", limit: 1_000)
            #expect(again.keys == expected)

            let (hosts, hostPages, hostTotals) = try await Self.pageAll(server, "/api/v1/hosts", field: "hosts", key: "hostname", limit: 300)
            #expect(hosts == (0..<Self.hosts).map { "node-\($0)" }.sorted())
            #expect(hostPages == 7)
            #expect(hostTotals == [2_000])

            // Deep cursors: after 10,000 and then 15,998 GPUs, the last two, then the end.
            let first = try await server.get("/api/v1/gpus?limit=10000").object()
            let deep = try #require(first["next_cursor"] as? String)
            let middle = try await server.get("/api/v1/gpus?limit=5998&cursor=\(encode(deep))").object()
            #expect(middle["count"] as? Int == 5_998)
            let deeper = try #require(middle["next_cursor"] as? String)
            let tail = try await server.get("/api/v1/gpus?limit=5&cursor=\(encode(deeper))").object()
            #expect((tail["gpus"] as? [[String: Any]])?.compactMap { $0["uuid"] as? String } == Array(expected.suffix(2)))
            #expect(tail["next_cursor"] is NSNull)
            let one = try await Self.pageAll(server, "/api/v1/hosts/node-1234/gpus", field: "gpus", key: "uuid", limit: 3)
            #expect(one.keys == (0..<8).map { "GPU-1234-\($0)" })
            #expect(one.totals == [8])
            let filtered = try await server.get("/api/v1/gpus?hostname=node-7&limit=100").object()
            #expect(filtered["total"] as? Int == 8)
            let gpu = try await server.get("/api/v1/gpus?limit=1").object()
            #expect(((gpu["gpus"] as? [[String: Any]])?.first?["series_count"]) as? Int == 2)
        }
    }

    /// `fields` narrows each object to the keys asked for, `X-Next-Cursor` carries the body's
    /// `next_cursor` (absent on the last page), and one page may hold the whole fleet.
    @Test func fieldsHeaderCursorAndWholeFleetPages() async throws {
        try await TestServer.with(ingestSample: false) { server in
            try await Self.fleet(server.db)
            let expected = (0..<Self.hosts).flatMap { h in (0..<Self.gpusPerHost).map { "GPU-\(h)-\($0)" } }.sorted()

            // Walk by the header alone; each page's header equals its body's next_cursor.
            var uuids: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let reply = try await server.get("/api/v1/gpus?fields=uuid&limit=6000" + (cursor.map { "&cursor=\(encode($0))" } ?? ""))
                #expect(reply.status == 200)
                let body = try reply.object()
                let items = try #require(body["gpus"] as? [[String: Any]])
                #expect(items.allSatisfy { $0.count == 1 && $0["uuid"] is String })
                uuids += items.compactMap { $0["uuid"] as? String }
                cursor = reply.header("X-Next-Cursor")
                #expect(cursor == body["next_cursor"] as? String)
                if cursor == nil { #expect(body["next_cursor"] is NSNull) }
                pages += 1
            } while cursor != nil && pages < 10
            #expect(pages == 3)
            #expect(uuids == expected)

            // The whole fleet in one page (over the former 10,000 cap), full records unchanged.
            let whole = try await server.get("/api/v1/gpus?limit=16000")
            #expect(whole.header("X-Next-Cursor") == nil)
            let all = try #require(try whole.object()["gpus"] as? [[String: Any]])
            #expect(all.compactMap { $0["uuid"] as? String } == expected)
            #expect(all.first.map { Set($0.keys) } == ["uuid", "gpu_id", "device", "model_name", "hostname", "namespaces", "pods",
                                                       "mig_instances", "first_seen", "last_seen", "series_count"])
            #expect(all.first?["first_seen"] as? String == "2025-07-18T20:42:34Z")

            // Two keys, in the record's order, comma-separated or repeated.
            for query in ["fields=hostname,uuid", "fields=uuid&fields=hostname"] {
                let two = try await server.get("/api/v1/hosts/node-3/gpus?\(query)")
                #expect(two.status == 200)
                #expect(two.text.contains("{\"uuid\":\"GPU-3-0\",\"hostname\":\"node-3\"}"), "\(query)")
            }
            let hosts = try await server.get("/api/v1/hosts?fields=hostname&limit=100000")
            let hostItems = try #require(try hosts.object()["hosts"] as? [[String: Any]])
            #expect(hostItems.compactMap { $0["hostname"] as? String } == (0..<Self.hosts).map { "node-\($0)" }.sorted())
            #expect(hostItems.allSatisfy { $0.count == 1 })
            let hostPage = try await server.get("/api/v1/hosts?limit=1500")
            #expect(hostPage.header("X-Next-Cursor") == (try hostPage.object()["next_cursor"] as? String))
            #expect(hostPage.header("X-Next-Cursor") != nil)

            let unknown = try await server.get("/api/v1/gpus?fields=uuid,colour")
            #expect(unknown.status == 400)
            #expect(unknown.text.contains("colour") && unknown.text.contains("model_name"))
            #expect(try await server.get("/api/v1/hosts?fields=uuid").status == 400)
            #expect(try await server.get("/api/v1/gpus?limit=100001").status == 400)
        }
    }
}
