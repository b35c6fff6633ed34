@testable import APIServer
import CZlib
import Foundation
import Testing
import TSDB

/// Requests exactly as Telegraf's InfluxDB outputs and the InfluxDB client libraries send them:
/// gzip bodies, Basic/Token/query-string credentials, `CREATE DATABASE` at start, partial
/// writes and error bodies in each API's own shape.
@Suite struct InfluxClientReplayTests {
    /// gzip (RFC 1952) through zlib, as Go's compress/gzip and the `gzip` program write it.
    static func gzip(_ text: String) throws -> [UInt8] {
        try gzip(Array(text.utf8))
    }

    static func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
        var stream = z_stream()
        guard deflateInit2_(&stream, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw TestError("deflateInit2 failed")
        }
        defer { deflateEnd(&stream) }
        var out = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(bytes.count))) + 64)
        let written: Int = bytes.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { output in
                stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
                stream.avail_in = UInt32(input.count)
                stream.next_out = output.baseAddress
                stream.avail_out = UInt32(output.count)
                guard CZlib.deflate(&stream, Z_FINISH) == Z_STREAM_END else { return -1 }
                return output.count - Int(stream.avail_out)
            }
        }
        guard written >= 0 else { throw TestError("deflate did not finish") }
        return Array(out[..<written])
    }

    static func basic(_ user: String, _ password: String) -> String {
        "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
    }

    static func stored(_ db: TSDB, _ metric: String) async throws -> Int {
        let result = try db.query(Query(metric: metric, start: .min, end: .max))
        return result.series.reduce(0) { $0 + $1.timestamps.count }
    }

    @Test func telegrafV1GzipBatchIsStored() async throws {
        try await TestServer.with(ingestSample: false) { server in
            // outputs.influxdb: POST /write?db=telegraf, gzip by default, Basic with the key as password.
            let body = try Self.gzip("gpu,host=node-1,gpu=0 util=42i,temp=61 1752871354000000000\ngpu,host=node-1,gpu=1 util=7i,temp=55 1752871354000000000\n")
            let reply = try await server.request("/write?db=telegraf", method: .POST, headers: [
                ("Authorization", Self.basic("telegraf", "test-key")), ("Content-Encoding", "gzip"),
                ("User-Agent", "Telegraf/1.30.0 Go/1.22.1"),
            ], body: body, contentType: "text/plain; charset=utf-8")
            #expect(reply.status == 204, "\(reply.text)")
            #expect(try await Self.stored(server.db, "gpu_util") == 2)
            #expect(try await Self.stored(server.db, "gpu_temp") == 2)
        }
    }

    @Test func telegrafV2GzipBatchWithTokenIsStored() async throws {
        try await TestServer.with(ingestSample: false) { server in
            // outputs.influxdb_v2: POST /api/v2/write?bucket=&org=, gzip by default, Token auth.
            let body = try Self.gzip("gpu,host=node-1,gpu=0 util=42i 1752871354000000000\n")
            let reply = try await server.request("/api/v2/write?bucket=telegraf&org=gpu", method: .POST, headers: [
                ("Authorization", "Token test-key"), ("Content-Encoding", "gzip"),
            ], body: body, contentType: "text/plain; charset=utf-8")
            #expect(reply.status == 204, "\(reply.text)")
            #expect(try await Self.stored(server.db, "gpu_util") == 1)
        }
    }

    @Test func influxdbClientPythonV2WriteIsStored() async throws {
        try await TestServer.with(ingestSample: false) { server in
            // influxdb-client (Python) 1.x: write_api(SYNCHRONOUS).write(bucket=, record=) posts
            // /api/v2/write?org=&bucket=&precision=ns with Token auth; enable_gzip=True adds gzip.
            func line(_ t: Int) -> String { "nvidia_smi,host=node-1,index=0,uuid=GPU-py2 utilization_gpu=42i 175287135\(t)000000000\n" }
            for (encoding, body) in [(nil, Array(line(4).utf8)), ("gzip", try Self.gzip(line(5)))] as [(String?, [UInt8])] {
                var headers = [("Authorization", "Token test-key"), ("Accept", "application/json"),
                               ("User-Agent", "influxdb-client-python/1.44.0")]
                if let encoding { headers.append(("Content-Encoding", encoding)) }
                let reply = try await server.request("/api/v2/write?org=any&bucket=telemetry&precision=ns", method: .POST, headers: headers,
                                                     body: body, contentType: "text/plain")
                #expect(reply.status == 204, "\(reply.text)")
            }
            #expect(try await Self.stored(server.db, "nvidia_smi_utilization_gpu") == 2)
            #expect(server.db.gpus().map(\.uuid) == ["GPU-py2"])
        }
    }

    @Test func gzipBombGets413AndStoresNothing() async throws {
        var config = TestServer.config()
        config.maxBodyBytes = 1 << 20
        try await TestServer.with(config: config, ingestSample: false) { server in
            // 64 MiB of one repeated line compresses to well under the 1 MiB limit.
            let line = Array("bomb,host=a value=1 1752871354000000000\n".utf8)
            var plain: [UInt8] = []
            plain.reserveCapacity(64 << 20)
            while plain.count < 64 << 20 { plain.append(contentsOf: line) }
            let body = try Self.gzip(plain)
            #expect(body.count < config.maxBodyBytes)
            for path in ["/write", "/api/v2/write", "/api/v1/write", "/telemetry"] {
                let reply = try await server.request(path, method: .POST, headers: [("X-API-Key", "test-key"), ("Content-Encoding", "gzip")],
                                                     body: body, contentType: path == "/telemetry" ? "application/json" : "text/plain")
                #expect(reply.status == 413, "\(path): \(reply.status) \(reply.text.prefix(200))")
                #expect(reply.text.contains("once decompressed"))
            }
            #expect(try await Self.stored(server.db, "bomb") == 0)
            // Not gzip at all, and an encoding nobody here decodes.
            let garbage = try await server.request("/write", method: .POST, headers: [("X-API-Key", "test-key"), ("Content-Encoding", "gzip")],
                                                   body: Array("not gzip".utf8), contentType: "text/plain")
            #expect(garbage.status == 400)
            let br = try await server.request("/write", method: .POST, headers: [("X-API-Key", "test-key"), ("Content-Encoding", "br")],
                                              body: Array("x value=1".utf8), contentType: "text/plain")
            #expect(br.status == 415)
        }
    }

    @Test func deflateBodyIsStored() async throws {
        try await TestServer.with(ingestSample: false) { server in
            // zlib format (RFC 1950): gzip's deflate stream with a 2-byte header and Adler-32.
            let gz = try Self.gzip("defl,host=a value=3 1752871354000000000\n")
            // Strip gzip's 10-byte header and 8-byte trailer to get raw deflate, which clients also send.
            let raw = Array(gz[10..<(gz.count - 8)])
            let reply = try await server.request("/api/v1/write", method: .POST, headers: [("X-API-Key", "test-key"), ("Content-Encoding", "deflate")],
                                                 body: raw, contentType: "text/plain")
            #expect(reply.status == 204, "\(reply.text)")
            #expect(try await Self.stored(server.db, "defl") == 1)
        }
    }

    @Test func v1PartialWriteStoresTheGoodLinesAndNamesTheBadOnes() async throws {
        try await TestServer.with(ingestSample: false) { server in
            let body = "pw,gpu=0 value=1 1752871354000000000\npw,gpu=0 value=oops 1752871355000000000\npw,gpu=0 value=3 1752871356000000000\nno_fields_here\n"
            let reply = try await server.post("/write?db=telegraf", body, contentType: "text/plain")
            #expect(reply.status == 400)
            let error = try reply.object()["error"] as? String ?? ""
            #expect(error.hasPrefix("partial write:"))
            #expect(error.contains("line 2"))
            #expect(error.contains("line 4"))
            #expect(error.contains("dropped=2"))
            #expect(reply.header("X-Samples-Written") == "2")
            #expect(reply.header("X-Influxdb-Error")?.hasPrefix("partial write:") == true)
            #expect(try await Self.stored(server.db, "pw") == 2)
            // Every line bad: nothing stored, and no "partial".
            let none = try await server.post("/write", "pw value=x\n", contentType: "text/plain")
            #expect(none.status == 400)
            #expect((try none.object()["error"] as? String)?.hasPrefix("unable to parse") == true)
        }
    }

    @Test func v2RefusesTheWholeBatchInItsOwnErrorShape() async throws {
        try await TestServer.with(ingestSample: false) { server in
            let reply = try await server.request("/api/v2/write?bucket=b&org=o", method: .POST, headers: [("Authorization", "Token test-key")],
                                                 body: Array("v2,gpu=0 value=1 1\nv2,gpu=0 value=oops 2\n".utf8), contentType: "text/plain")
            #expect(reply.status == 400)
            let object = try reply.object()
            #expect(object["code"] as? String == "invalid")
            #expect((object["message"] as? String)?.contains("line 2") == true)
            #expect(try await Self.stored(server.db, "v2") == 0)
            // 401 in each dialect's shape.
            let v2 = try await server.request("/api/v2/write", method: .POST, headers: [], body: Array("v2 value=1".utf8), contentType: "text/plain")
            #expect(v2.status == 401)
            #expect(try v2.object()["code"] as? String == "unauthorized")
            let v1 = try await server.request("/write", method: .POST, headers: [], body: Array("v1 value=1".utf8), contentType: "text/plain")
            #expect(v1.status == 401)
            #expect(try v1.object()["error"] is String)
        }
    }

    @Test func createDatabaseAnswersLikeInfluxDB() async throws {
        try await TestServer.with(ingestSample: false) { server in
            // Telegraf at start: POST /query with a form body, Basic auth.
            let telegraf = try await server.request("/query", method: .POST, headers: [("Authorization", Self.basic("telegraf", "test-key"))],
                                                    body: Array("q=CREATE+DATABASE+%22telegraf%22".utf8), contentType: "application/x-www-form-urlencoded")
            #expect(telegraf.status == 200, "\(telegraf.text)")
            #expect(telegraf.text == #"{"results":[{"statement_id":0}]}"#)
            // influxdb-python's create_database(): POST /query?q=…&u=…&p=<key>, no Authorization header.
            let python = try await server.request("/query?q=CREATE%20DATABASE%20%22telemetry%22&u=root&p=test-key", method: .POST,
                                                  headers: [], body: nil)
            #expect(python.status == 200, "\(python.text)")
            #expect(python.text == #"{"results":[{"statement_id":0}]}"#)
            // A wrong p is refused; a data query is refused with a pointer to the query APIs.
            let wrong = try await server.request("/query?q=CREATE%20DATABASE%20x&p=nope", method: .POST, headers: [], body: nil)
            #expect(wrong.status == 401)
            let select = try await server.get("/query?q=SELECT%20*%20FROM%20cpu")
            #expect(select.status == 400)
            #expect((try select.object()["error"] as? String)?.contains("/api/v1/query") == true)
            // ?p= is only for the InfluxDB 1.x routes.
            #expect(try await server.request("/api/v1/gpus?p=test-key", headers: []).status == 401)
        }
    }

    @Test func aQuotedNewlineInAStringFieldIsOneLine() async throws {
        try await TestServer.with(ingestSample: false) { server in
            let body = "event,gpu=0 msg=\"XID 79\nfallen off the bus\",value=1 1752871354000000000\nevent,gpu=0 value=2 1752871355000000000\n"
            let reply = try await server.post("/write", body, contentType: "text/plain")
            #expect(reply.status == 204, "\(reply.text)")
            #expect(try await Self.stored(server.db, "event") == 2)
        }
    }

    @Test func grafanaAcceptsBasicAuthWithTheKeyAsPassword() async throws {
        try await TestServer.with(ingestSample: false) { server in
            let ok = try await server.request("/grafana/metrics", method: .POST, headers: [("Authorization", Self.basic("grafana", "test-key"))],
                                              body: Array("{}".utf8), contentType: "application/json")
            #expect(ok.status == 200, "\(ok.text)")
            let bad = try await server.request("/grafana/metrics", method: .POST, headers: [("Authorization", Self.basic("grafana", "nope"))],
                                               body: Array("{}".utf8), contentType: "application/json")
            #expect(bad.status == 401)
            // Basic stays refused where no client needs it.
            #expect(try await server.request("/api/v1/gpus", headers: [("Authorization", Self.basic("x", "test-key"))]).status == 401)
        }
    }
}
