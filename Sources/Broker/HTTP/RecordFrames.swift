import NIOCore

/// The binary body of `GET /consume?…&encoding=binary` (Content-Type
/// `application/x-telemetry-records`): the same records as the SSE stream without base64 or
/// event framing, so neither end touches the payload bytes more than one copy each.
///
/// A stream is a sequence of frames:
/// - `0x00`: heartbeat (one byte; sent on connect and while idle);
/// - `0x01 [u16 BE id length][id, UTF-8][u32 BE delivery count][u32 BE payload length][payload]`: a record.
///
/// ```swift
/// let body = RecordFrames.encode(records)                     // broker side
/// var decoder = RecordFrameDecoder()
/// for frame in try decoder.feed(chunk) { use(frame.id, frame.payload) }   // consumer side
/// ```
package enum RecordFrames {
    package static let contentType = "application/x-telemetry-records"
    package static let heartbeat: UInt8 = 0
    package static let record: UInt8 = 1
    /// Bytes of a record frame before its payload, less the id.
    static let fixedHeader = 1 + 2 + 4 + 4

    /// Frames of `records` in one buffer (sized once, each payload copied once).
    package static func encode(_ records: [BrokerRecord]) -> ByteBuffer {
        var size = 0
        for r in records { size += fixedHeader + r.id.utf8.count + r.payload.count }
        var buffer = ByteBuffer()
        buffer.reserveCapacity(size)
        for r in records { append(id: r.id, deliveryCount: r.deliveryCount, payload: r.payload, to: &buffer) }
        return buffer
    }

    /// Appends one record frame. Ids longer than 65,535 bytes cannot occur (`<partition>-<offset>`,
    /// optionally tagged by the proxy) and are cut.
    package static func append(id: String, deliveryCount: Int, payload: some Collection<UInt8>, to buffer: inout ByteBuffer) {
        let idBytes = id.utf8.prefix(Int(UInt16.max))
        buffer.writeInteger(record)
        buffer.writeInteger(UInt16(idBytes.count), endianness: .big)
        buffer.writeBytes(idBytes)
        buffer.writeInteger(UInt32(clamping: max(0, deliveryCount)), endianness: .big)
        buffer.writeInteger(UInt32(clamping: payload.count), endianness: .big)
        buffer.writeBytes(payload)
    }

    /// The one-byte heartbeat frame.
    package static var heartbeatBuffer: ByteBuffer { ByteBuffer(bytes: [heartbeat]) }
}

/// Why a record stream cannot be decoded.
package enum RecordFrameError: Error, Sendable, Equatable, CustomStringConvertible {
    case unknownFrame(kind: UInt8, at: Int)
    case emptyID(at: Int)
    case payloadTooLarge(bytes: Int, limit: Int, at: Int)

    package var description: String {
        switch self {
        case .unknownFrame(let k, let at):
            return "record stream: unknown frame kind \(k) at byte \(at) (expected 0 heartbeat or 1 record; is the broker speaking another encoding?)"
        case .emptyID(let at):
            return "record stream: record frame without an id at byte \(at)"
        case .payloadTooLarge(let n, let limit, let at):
            return "record stream: record at byte \(at) declares \(n) payload bytes, over the \(limit)-byte limit"
        }
    }
}

/// Incremental decoder of ``RecordFrames``: chunks may cut frames anywhere. Header bytes are
/// gathered in a small buffer; payload bytes go straight into the record's own array.
package struct RecordFrameDecoder {
    package struct Frame: Sendable, Equatable {
        package var id: String
        package var deliveryCount: Int
        package var payload: [UInt8]
    }

    package let maxPayload: Int
    private var header: [UInt8] = []
    private var current: (id: String, deliveryCount: Int, length: Int)?
    private var payload: [UInt8] = []
    /// Bytes consumed so far (for error positions).
    private var position = 0

    package init(maxPayload: Int = 64 << 20) {
        self.maxPayload = maxPayload
    }

    /// Whether the decoder sits between frames (nothing partial held).
    package var isAtBoundary: Bool { header.isEmpty && current == nil }

    package mutating func feed(_ chunk: ByteBuffer) throws(RecordFrameError) -> [Frame] {
        var result: Result<[Frame], RecordFrameError> = .success([])
        chunk.withUnsafeReadableBytes { result = self.decode($0) }
        return try result.get()
    }

    package mutating func feed(_ bytes: UnsafeRawBufferPointer) throws(RecordFrameError) -> [Frame] {
        try decode(bytes).get()
    }

    private mutating func decode(_ bytes: UnsafeRawBufferPointer) -> Result<[Frame], RecordFrameError> {
        var frames: [Frame] = []
        var i = 0
        let n = bytes.count
        while i < n {
            if let c = current {
                let take = min(c.length - payload.count, n - i)
                payload.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[i..<(i + take)]))
                i += take
                if payload.count == c.length { frames.append(finish(c)) }
                continue
            }
            if header.isEmpty {
                if bytes[i] == RecordFrames.heartbeat { i += 1; continue }
                guard bytes[i] == RecordFrames.record else { return .failure(.unknownFrame(kind: bytes[i], at: position + i)) }
            }
            // Gather the header: kind + id length first, then the id and both counts.
            let need: Int
            if header.count < 3 {
                need = 3 - header.count
            } else {
                need = 3 + Self.idLength(header) + 8 - header.count
            }
            let take = min(need, n - i)
            header.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[i..<(i + take)]))
            i += take
            if take < need { continue }   // the chunk ended inside the header
            let idLen = Self.idLength(header)
            if header.count == 3 {
                if idLen == 0 { return .failure(.emptyID(at: position + i - 3)) }
                continue   // now the id and both counts
            }
            let id = String(decoding: header[3..<(3 + idLen)], as: UTF8.self)
            let delivery = Int(Self.u32(header, 3 + idLen))
            let length = Int(Self.u32(header, 7 + idLen))
            guard length <= maxPayload else {
                return .failure(.payloadTooLarge(bytes: length, limit: maxPayload, at: position + i - header.count))
            }
            header.removeAll(keepingCapacity: true)
            let c = (id: id, deliveryCount: delivery, length: length)
            current = c
            payload = []
            payload.reserveCapacity(min(length, 4 << 20))   // a declared length is not trusted with memory
            if length == 0 { frames.append(finish(c)) }
        }
        position += n
        return .success(frames)
    }

    private mutating func finish(_ c: (id: String, deliveryCount: Int, length: Int)) -> Frame {
        let frame = Frame(id: c.id, deliveryCount: c.deliveryCount, payload: payload)
        payload = []
        current = nil
        return frame
    }

    private static func idLength(_ h: [UInt8]) -> Int { Int(h[1]) << 8 | Int(h[2]) }

    private static func u32(_ h: [UInt8], _ at: Int) -> UInt32 {
        UInt32(h[at]) << 24 | UInt32(h[at + 1]) << 16 | UInt32(h[at + 2]) << 8 | UInt32(h[at + 3])
    }
}
