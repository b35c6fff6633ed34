import Foundation
import NIOCore
import Testing

@testable import Broker

@Suite("Wire formats")
struct CodecTests {
    @Test("ack bodies: fast path and JSONDecoder agree", arguments: [
        #"{"ids":["0-1","0-2"]}"#, #" { "ids" : [ "0-1" , "0-2" ] } "#, #"{"id":"0-7"}"#,
        #"{"ids":["a\"b"]}"#, #"{"id":"x","ids":["y"]}"#,
    ])
    func ackBodies(body: String) throws {
        let ids = try AckBody.decode(ByteBuffer(string: body))
        struct B: Decodable { let id: String?; let ids: [String]? }
        let reference = try JSONDecoder().decode(B.self, from: Data(body.utf8))
        #expect(Set(ids) == Set((reference.ids ?? []) + (reference.id.map { [$0] } ?? [])))
    }

    @Test("bad ack bodies are rejected", arguments: ["", "[]", #"{"ids":[]}"#, #"{"ids":[1]}"#, "{"])
    func badAckBodies(body: String) {
        #expect(throws: BrokerError.self) { try AckBody.decode(ByteBuffer(string: body)) }
    }

    @Test("record ids parse strictly")
    func ids() {
        #expect(MessageBroker.parseID("3-17", partition: 3) == 17)
        #expect(MessageBroker.parseID("3-0", partition: 3) == 0)
        for bad in ["3-17", "-17", "3-", "3", "3--1", "x-1", "3-1a", "03-1x", "", "3-99999999999999999999"] where bad != "3-17" {
            #expect(MessageBroker.parseID(bad, partition: 3) == nil, "\(bad)")
        }
        #expect(MessageBroker.parseID("3-17", partition: 2) == nil)
    }

    @Test("batch framing round-trips, truncation is an error")
    func framing() throws {
        let payloads: [[UInt8]] = [[], [1], Array(repeating: 9, count: 70_000)]
        let bytes = BatchFraming.encode(payloads)
        #expect(try BatchFraming.decode(ByteBuffer(bytes: bytes)) == payloads)
        #expect(throws: BrokerError.self) { try BatchFraming.decode(ByteBuffer(bytes: bytes.dropLast())) }
    }

    @Test("SSE encoding: the buffer and array encoders agree; text splits lines")
    func sse() {
        var rng = SystemRandomNumberGenerator()
        let records = (0..<20).map { n in
            BrokerRecord(id: "3-\(n * 1000)", offset: UInt64(n), timestamp: 0,
                         payload: (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }, deliveryCount: 1)
        }
        #expect(Array(buffer: SSEStream.encodeBuffer(records, base64: true)) == SSEStream.encode(records, base64: true))
        let r = BrokerRecord(id: "0-1", offset: 1, timestamp: 0, payload: Array("a\nb".utf8), deliveryCount: 1)
        #expect(String(decoding: SSEStream.encode([r], base64: false), as: UTF8.self) == "id: 0-1\ndata: a\ndata: b\n\n")
    }

    @Test("binary record frames: decoded whole or cut anywhere, heartbeats skipped, bad streams are errors")
    func recordFrames() throws {
        var rng = SystemRandomNumberGenerator()
        let records = (0..<12).map { n in
            BrokerRecord(id: n == 5 ? "f00000000000000ab~3-\(n)" : "3-\(n * 1000)", offset: UInt64(n), timestamp: 0,
                         payload: (0..<(n * 997 % 5000)).map { _ in UInt8.random(in: 0...255, using: &rng) }, deliveryCount: n)
        }
        var stream = RecordFrames.heartbeatBuffer
        var body = RecordFrames.encode(records)
        stream.writeBuffer(&body)
        stream.writeInteger(RecordFrames.heartbeat)
        let bytes = Array(buffer: stream)
        let expected = records.map { RecordFrameDecoder.Frame(id: $0.id, deliveryCount: $0.deliveryCount, payload: $0.payload) }
        var whole = RecordFrameDecoder()
        #expect(try whole.feed(ByteBuffer(bytes: bytes)) == expected)
        #expect(whole.isAtBoundary)
        for size in [1, 2, 3, 7, 11, 100, 4096] {
            var decoder = RecordFrameDecoder()
            var got: [RecordFrameDecoder.Frame] = []
            for start in stride(from: 0, to: bytes.count, by: size) {
                got += try decoder.feed(ByteBuffer(bytes: bytes[start..<min(bytes.count, start + size)]))
            }
            #expect(got == expected, "chunks of \(size) bytes")
        }
        var unknown = RecordFrameDecoder()
        #expect(throws: RecordFrameError.unknownFrame(kind: 0x69, at: 1)) { try unknown.feed(ByteBuffer(bytes: [0] + Array("id: 0-1\n".utf8))) }
        var empty = RecordFrameDecoder()
        #expect(throws: RecordFrameError.emptyID(at: 0)) { try empty.feed(ByteBuffer(bytes: [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])) }
        var small = RecordFrameDecoder(maxPayload: 10)
        var big = ByteBuffer()
        RecordFrames.append(id: "0-1", deliveryCount: 1, payload: [UInt8](repeating: 7, count: 11), to: &big)
        #expect(throws: RecordFrameError.payloadTooLarge(bytes: 11, limit: 10, at: 0)) { try small.feed(big) }
        #expect(ConsumeEncoding(query: "binary") == .binary && ConsumeEncoding(query: "base64") == .base64 && ConsumeEncoding(query: nil) == .raw)
    }

    @Test("proxy failover tags: ids of fallback events are rewritten, whole events only")
    func retag() {
        let events = Array("id: 0-1\ndata: x\n\n: hb\n\nid: 0-2\ndata: id: not an id\n\n".utf8)
        let out = String(decoding: ProxyServer.retag(events, tag: "fab"), as: UTF8.self)
        #expect(out == "id: fab~0-1\ndata: x\n\n: hb\n\nid: fab~0-2\ndata: id: not an id\n\n")
        #expect(ProxyServer.lastEventEnd(Array("id: 1\ndata: a\n\nid: 2\nda".utf8)) == 15)
        #expect(ProxyServer.lastEventEnd(Array("id: 1\ndata: a\n".utf8)) == nil)
        #expect(ProxyServer.tag("http://a:1").count == 17)
    }
}
