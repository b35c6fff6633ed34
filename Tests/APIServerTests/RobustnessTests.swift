import Foundation
import Synchronization
import Testing
import TSDB

/// Issue 9 over HTTP: health never waits on the engine, hostile and invalid regexes, the
/// query deadline, and far-future writes.
@Suite struct RobustnessTests {
    /// Holds the engine lock on a thread of its own until told to let go (or 20 s pass).
    final class LockHolder: @unchecked Sendable {
        let locked = DispatchSemaphore(value: 0)
        let release = Atomic<Bool>(false)
        let holding = Atomic<Bool>(false)

        func start(_ db: TSDB) {
            DispatchQueue.global().async {
                db.holdingEngineLock {
                    self.holding.store(true, ordering: .sequentiallyConsistent)
                    self.locked.signal()
                    let until = Date().addingTimeInterval(20)
                    while !self.release.load(ordering: .sequentiallyConsistent), Date() < until { usleep(1000) }
                    self.holding.store(false, ordering: .sequentiallyConsistent)
                }
            }
            locked.wait()
        }
    }

    @Test func healthReadyMetricsNeverTakeTheEngineLock() async throws {
        try await TestServer.with(ingestSample: false) { server in
            let holder = LockHolder()
            holder.start(server.db)
            // Were any of these to touch the database lock they would answer only after the
            // holder lets go; they must answer while it still holds it.
            var statuses: [Int] = []
            do {
                for path in ["/health", "/ready", "/metrics", "/ping"] {
                    statuses.append(try await server.get(path, headers: []).status)
                }
            } catch {
                holder.release.store(true, ordering: .sequentiallyConsistent)
                throw error
            }
            let stillHeld = holder.holding.load(ordering: .sequentiallyConsistent)
            holder.release.store(true, ordering: .sequentiallyConsistent)
            #expect(statuses == [200, 200, 200, 204])
            #expect(stillHeld, "answered while the engine lock was held")
        }
    }

    @Test func hostileRegexReturnsAndHealthAnswersMeanwhile() async throws {
        // 5 KB label values make the regex costly; they are over the default value length
        // limit (4 KiB), so this database has it off.
        try await TestServer.with(ingestSample: false, options: { $0.seriesLimits.maxLabelValueLength = nil }) { server in
            var samples: [LabeledSample] = []
            for i in 0..<100 {
                let uuid = "GPU-\(i)-" + String(repeating: "x", count: 5_000) + (i == 7 ? "!" : "")
                samples.append(LabeledSample(labels: Labels(["__name__": "DCGM_FI_DEV_GPU_UTIL", "UUID": uuid]), timestamp: 1_752_871_354_000_000_000, value: Double(i)))
            }
            try await server.db.append(samples)
            let path = "/api/v1/query?match%5B%5D=" + encode(#"UUID=~"(.|.)*!""#)
            async let heavy = server.get(path)
            let health = try await server.get("/health", headers: [])
            #expect(health.status == 200)
            let reply = try await heavy
            #expect(reply.status == 200, "\(reply.text.prefix(300))")
            let series = try #require(try reply.object()["series"] as? [[String: Any]])
            #expect(series.count == 1)
            #expect((series.first?["values"] as? [Double]) == [7])
        }
    }

    @Test func invalidRegexIs400NamingIt() async throws {
        try await TestServer.with(ingestSample: false) { server in
            let reply = try await server.get("/api/v1/query?match%5B%5D=" + encode(#"gpu=~"(0|1""#))
            #expect(reply.status == 400)
            #expect(try reply.errorCode() == "bad_request")
            #expect(reply.text.contains("invalid regular expression") && reply.text.contains("gpu"), "\(reply.text)")
        }
    }

    @Test func queryPastItsTimeoutIs503() async throws {
        try await TestServer.with(options: { $0.queryTimeout = 1 }) { server in
            let reply = try await server.get("/api/v1/query?metric=DCGM_FI_DEV_GPU_TEMP")
            #expect(reply.status == 503, "\(reply.text.prefix(300))")
            #expect(try reply.errorCode() == "query_timeout")
            #expect(reply.text.contains("--query-timeout"), "\(reply.text)")
            #expect(try await server.get("/health", headers: []).status == 200)
        }
    }

    @Test func farFutureWriteIs400AndSaysWhatWasStored() async throws {
        try await TestServer.with(ingestSample: false) { server in
            let now = WallClock.nanos()
            let lp = "fut value=1 9000000000000000000\nfut value=2 \(now)\n"
            let reply = try await server.post("/api/v1/write", lp, contentType: "text/plain")
            #expect(reply.status == 400, "\(reply.text)")
            #expect(try reply.errorCode() == "timestamp_too_far_in_future")
            #expect(reply.text.contains("1 sample is more than 600 s ahead") && reply.text.contains("1 sample was stored")
                    && reply.text.contains("--max-future"), "\(reply.text)")
            #expect(reply.header("X-Samples-Written") == "1")
            #expect(reply.header("X-Samples-Rejected") == "1")
            // The series is not silenced: a later present-day sample is stored.
            let later = try await server.post("/api/v1/write", "fut value=3 \(now + 1_000_000_000)\n", contentType: "text/plain")
            #expect(later.status == 204, "\(later.text)")
            let q = try await server.get("/api/v1/query?metric=fut").object()
            let series = try #require((q["series"] as? [[String: Any]])?.first)
            #expect((series["values"] as? [Double]) == [2, 3])

            // InfluxDB 1.x clients get the same reason in their error shape.
            let influx = try await server.post("/write", "fut value=4 9000000000000000000\nfut value=5 \(now + 2_000_000_000)\n", contentType: "text/plain")
            #expect(influx.status == 400)
            #expect(influx.text.contains("more than 600 s ahead") && influx.text.contains("1 sample was stored"), "\(influx.text)")

            let json = #"{"metric":"j","value":1,"time":"2255-01-01T00:00:00Z","uuid":"GPU-f"}"#
            let j = try await server.post("/telemetry", json)
            #expect(j.status == 400, "\(j.text)")
            #expect(try j.errorCode() == "timestamp_too_far_in_future")
        }
    }

    @Test func collectorWriteAcksFarFutureRowsWithTheReasonInHeaders() async throws {
        var config = TestServer.config()
        config.serviceToken = "svc-token"
        // The server's clock stands before the sample (2025-07-18), so all of it is "future".
        try await TestServer.with(config: config, ingestSample: false, options: { $0.clock = { 1_751_328_000_000_000_000 } }) { server in
            let csv = try String(contentsOfFile: TestServer.samplePath, encoding: .utf8)
            let reply = try await server.post("/internal/v1/write", csv, contentType: "text/csv", headers: [("Authorization", "Bearer svc-token")])
            #expect(reply.status == 204, "\(reply.text)")
            #expect(reply.header("X-Samples-Written") == "0")
            #expect(reply.header("X-Samples-Rejected") == "2470")
            #expect(reply.header("X-Samples-Rejected-Reason")?.contains("2470 samples are more than 600 s ahead") == true)
        }
    }
}
