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
}
