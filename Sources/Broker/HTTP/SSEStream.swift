import Foundation
import Hummingbird
import Logging
import Primitives
import ServiceLifecycle
import Synchronization

/// How `/consume` writes records: Server-Sent Events with raw (line-split) or base64 payloads,
/// or binary ``RecordFrames`` (`encoding=binary`, what ``HTTPBrokerClient`` asks for).
package enum ConsumeEncoding: Sendable, Equatable {
    case raw, base64, binary

    /// From the `encoding` query parameter; anything else is raw SSE, as before.
    package init(query value: String?) {
        switch value {
        case "base64": self = .base64
        case "binary": self = .binary
        default: self = .raw
        }
    }

    package var contentType: String { self == .binary ? RecordFrames.contentType : "text/event-stream" }
    /// What the stream sends on connect and while idle.
    var heartbeat: ByteBuffer { self == .binary ? RecordFrames.heartbeatBuffer : ByteBuffer(string: ": hb\n\n") }
    var connected: ByteBuffer { self == .binary ? RecordFrames.heartbeatBuffer : ByteBuffer(string: ": connected\n\n") }

    func encode(_ records: [BrokerRecord]) -> ByteBuffer {
        switch self {
        case .binary: return RecordFrames.encode(records)
        case .base64: return SSEStream.encodeBuffer(records, base64: true)
        case .raw: return SSEStream.encodeBuffer(records, base64: false)
        }
    }
}

/// One `/consume` connection: polls the broker and writes each batch of records as
/// Server-Sent Events (`id:` record id, `data:` payload), with `: hb` comments while idle, or
/// as binary ``RecordFrames`` with heartbeat bytes.
/// Ends on client disconnect, task cancellation or graceful shutdown; records that could not
/// be written are released so the group gets them again at once.
struct SSEStream {
    let broker: MessageBroker
    let topic: String
    let partition: Int
    let group: String
    let encoding: ConsumeEncoding
    let maxRecords: Int
    let heartbeat: Duration
    let logger: Logger

    func run(writer: inout any ResponseBodyWriter) async {
        let stopping = Atomic<Bool>(false)
        await withGracefulShutdownHandler {
            var lastWrite = ContinuousClock.now
            while !stopping.load(ordering: .relaxed) && !Task.isCancelled {
                let records: [BrokerRecord]
                do {
                    // Short waits so a graceful shutdown ends the stream within a second.
                    records = try await broker.poll(topic: topic, partition: partition, group: group,
                                                    maxRecords: maxRecords, wait: min(heartbeat, .seconds(1)))
                } catch {
                    logger.debug("consume stream ends", metadata: ["error": "\(error)"])
                    return
                }
                do {
                    if records.isEmpty {
                        if ContinuousClock.now - lastWrite >= heartbeat {
                            try await writer.write(encoding.heartbeat)
                            lastWrite = .now
                        }
                        continue
                    }
                    try await writer.write(encoding.encode(records))
                    lastWrite = .now
                } catch {
                    if !records.isEmpty {
                        await broker.release(topic: topic, partition: partition, group: group, ids: records.map(\.id))
                    }
                    return
                }
            }
        } onGracefulShutdown: {
            stopping.store(true, ordering: .relaxed)
        }
    }

    /// The events of `records` written straight into one buffer (base64 through pointers, no
    /// intermediate array); same bytes as `encode`.
    static func encodeBuffer(_ records: [BrokerRecord], base64: Bool) -> ByteBuffer {
        guard base64 else { return ByteBuffer(bytes: encode(records, base64: false)) }
        var size = 0
        for r in records { size += 4 + r.id.utf8.count + 7 + (r.payload.count + 2) / 3 * 4 + 2 }
        var buffer = ByteBuffer()
        buffer.reserveCapacity(size)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { out in
            let base = out.baseAddress!.assumingMemoryBound(to: UInt8.self)
            var at = 0
            @inline(__always) func put(_ bytes: StaticString) {
                bytes.withUTF8Buffer { b in for c in b { base[at] = c; at += 1 } }
            }
            for r in records {
                put("id: ")
                for c in r.id.utf8 { base[at] = c; at += 1 }
                put("\ndata: ")
                at += r.payload.withUnsafeBufferPointer { Base64.encode($0, into: base + at) }
                put("\n\n")
            }
            return at
        }
        return buffer
    }

    /// `id: <id>\ndata: <payload>\n\n` per record; raw payloads are split into one `data:`
    /// line per line (SSE cannot carry bare newlines), base64 payloads are one line.
    static func encode(_ records: [BrokerRecord], base64: Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(records.reduce(0) { $0 + $1.payload.count * 4 / 3 + 40 })
        let idPrefix = Array("id: ".utf8), dataPrefix = Array("data: ".utf8)
        for r in records {
            out.append(contentsOf: idPrefix)
            out.append(contentsOf: r.id.utf8)
            out.append(10)
            out.append(contentsOf: dataPrefix)
            if base64 {
                Base64.encode(r.payload, into: &out)
            } else {
                for b in r.payload {
                    if b == 10 {
                        out.append(10)
                        out.append(contentsOf: dataPrefix)
                    } else if b != 13 {
                        out.append(b)
                    }
                }
            }
            out.append(10)
            out.append(10)
        }
        return out
    }
}

/// The batch produce body: repeated `[u32 big-endian length][payload]`.
package enum BatchFraming {
    package static func encode(_ payloads: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(payloads.reduce(0) { $0 + $1.count + 4 })
        for p in payloads {
            out.appendBE(UInt32(p.count))
            out.append(contentsOf: p)
        }
        return out
    }

    static func decode(_ body: ByteBuffer) throws -> [[UInt8]] {
        var buf = body
        var out: [[UInt8]] = []
        while buf.readableBytes > 0 {
            guard let length = buf.readInteger(endianness: .big, as: UInt32.self) else {
                throw BrokerError.invalidRequest("batch body: truncated length prefix at byte \(body.readableBytes - buf.readableBytes)")
            }
            guard let bytes = buf.readBytes(length: Int(length)) else {
                throw BrokerError.invalidRequest("batch body: record declares \(length) bytes but only \(buf.readableBytes) remain")
            }
            out.append(bytes)
        }
        return out
    }
}

/// The ack body: `{"id": "…"}` or `{"ids": ["…", …]}`.
enum AckBody {
    private struct Body: Decodable {
        let id: String?
        let ids: [String]?
    }

    static func decode(_ body: ByteBuffer) throws -> [String] {
        if let fast = fastDecode(body) { return fast }
        let decoded: Body
        do {
            decoded = try JSONDecoder().decode(Body.self, from: body)
        } catch {
            throw BrokerError.invalidRequest("ack body must be JSON {\"id\": \"…\"} or {\"ids\": [\"…\"]}")
        }
        let ids = (decoded.ids ?? []) + (decoded.id.map { [$0] } ?? [])
        guard !ids.isEmpty else { throw BrokerError.invalidRequest("ack body names no ids") }
        return ids
    }

    /// The common shape `{"ids":["…",…]}` or `{"id":"…"}` without escapes, parsed in one pass
    /// over the bytes; anything else (nil) goes through JSONDecoder.
    static func fastDecode(_ body: ByteBuffer) -> [String]? {
        body.withUnsafeReadableBytes { b -> [String]? in
            var i = 0
            func skipSpace() { while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 } }
            func expect(_ c: UInt8) -> Bool { skipSpace(); guard i < b.count, b[i] == c else { return false }; i += 1; return true }
            func string() -> String? {
                guard expect(0x22) else { return nil }
                let start = i
                while i < b.count, b[i] != 0x22 {
                    if b[i] == 0x5C || b[i] < 0x20 { return nil }
                    i += 1
                }
                guard i < b.count else { return nil }
                let s = String(decoding: UnsafeRawBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
                i += 1
                return s
            }
            guard expect(0x7B), let key = string(), expect(0x3A) else { return nil }
            var ids: [String] = []
            if key == "id" {
                guard let s = string() else { return nil }
                ids.append(s)
            } else if key == "ids" {
                guard expect(0x5B) else { return nil }
                skipSpace()
                if i < b.count, b[i] == 0x5D { return nil }
                while true {
                    guard let s = string() else { return nil }
                    ids.append(s)
                    skipSpace()
                    guard i < b.count else { return nil }
                    if b[i] == 0x2C { i += 1; continue }
                    if b[i] == 0x5D { i += 1; break }
                    return nil
                }
            } else {
                return nil
            }
            guard expect(0x7D) else { return nil }
            skipSpace()
            return i == b.count ? ids : nil
        }
    }
}
