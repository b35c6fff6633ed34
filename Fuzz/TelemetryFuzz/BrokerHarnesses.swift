import Broker
import Ingest
import Logging
import NIOCore
import Primitives

/// The broker's readers of outside bytes: segment files and group state files on start-up,
/// record ids in acks, and the consumer's side of `/consume` (SSE events, base64 payloads).
enum BrokerHarnesses {
    static let quiet = Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() })

    /// A segment file opened as on start-up (torn tail cut) and read back in full; opening
    /// the repaired file again keeps every record and cuts nothing.
    @Sendable static func segment(_ data: UnsafeRawBufferPointer) {
        let dir = Scratch.directory("segment")
        let path = "\(dir)/\(Segment.fileName(baseOffset: 0))"
        Scratch.write(path, data)
        defer { Scratch.remove(path) }
        guard let segment = try? Segment.open(path: path, logger: quiet) else { return }
        let count = segment.recordCount
        let records = (try? segment.read(from: segment.baseOffset, maxCount: count)) ?? []
        require(records.count == count, "segment of \(count) records reads back \(records.count)")
        let size = segment.size
        guard let again = try? Segment.open(path: path, logger: quiet) else {
            require(false, "a repaired segment does not open")
            return
        }
        require(again.recordCount == count && again.size == size && Scratch.size(path) == size,
                "reopening a repaired segment changed it: \(count) records/\(size) bytes, then \(again.recordCount)/\(again.size)")
    }

    /// A consumer group's state file replayed; a second open of the repaired file agrees.
    @Sendable static func groupState(_ data: UnsafeRawBufferPointer) {
        let dir = Scratch.directory("groups")
        let path = "\(dir)/\(GroupStateFile.fileName(group: "fuzz"))"
        Scratch.write(path, data)
        defer { Scratch.remove(path) }
        guard let first = try? GroupStateFile.open(directory: dir, group: "fuzz", durable: false, logger: quiet) else { return }
        guard let second = try? GroupStateFile.open(directory: dir, group: "fuzz", durable: false, logger: quiet) else {
            require(false, "a repaired group state file does not open")
            return
        }
        require(first.committed == second.committed && first.acked == second.acked,
                "group state changed on reopening: \(first.committed) then \(second.committed)")
    }

    /// Record ids (`<partition>-<offset>`) as acks carry them, and the consumer's SSE stream
    /// with its base64 payloads: fed in two pieces it yields what it yields whole.
    @Sendable static func recordID(_ data: UnsafeRawBufferPointer) {
        let (selector, rest) = split(data)
        if let text = String(validating: rest, as: UTF8.self) {
            let partition = Int(selector % 8)
            if let offset = MessageBroker.parseID(text, partition: partition) {
                require(MessageBroker.parseID("\(partition)-\(offset)", partition: partition) == offset,
                        "record id \(text) parses as offset \(offset), which does not round-trip")
            }
        }
        var whole = SSEParser()
        let events = whole.feed(rest)
        let cut = rest.isEmpty ? 0 : Int(selector) % rest.count
        var pieces = SSEParser()
        let streamed = pieces.feed(UnsafeRawBufferPointer(rebasing: rest[..<cut])) + pieces.feed(UnsafeRawBufferPointer(rebasing: rest[cut...]))
        require(events.count == streamed.count && zip(events, streamed).allSatisfy { a, b in
            a.id == b.id && a.event == b.event && a.data == b.data && a.deliveryCount == b.deliveryCount
        }, "SSE stream cut at \(cut) gives other events than whole")
        for e in events {
            guard let payload = Base64.decode(e.data) else { continue }
            var encoded: [UInt8] = []
            Base64.encode(payload, into: &encoded)
            require(Base64.decode(encoded) == payload, "base64 payload of \(payload.count) bytes does not round-trip")
        }
    }

    /// The consumer's binary record stream (`/consume?encoding=binary`): fed in two pieces it
    /// yields the frames (or the error) it yields whole, and what it decodes re-encodes to a
    /// stream that decodes the same.
    @Sendable static func recordFrames(_ data: UnsafeRawBufferPointer) {
        let (selector, rest) = split(data)
        var whole = RecordFrameDecoder(maxPayload: 1 << 20)
        let frames = try? whole.feed(rest)
        let cut = rest.isEmpty ? 0 : Int(selector) % rest.count
        var pieces = RecordFrameDecoder(maxPayload: 1 << 20)
        let streamed: [RecordFrameDecoder.Frame]? = {
            guard let a = try? pieces.feed(UnsafeRawBufferPointer(rebasing: rest[..<cut])),
                  let b = try? pieces.feed(UnsafeRawBufferPointer(rebasing: rest[cut...])) else { return nil }
            return a + b
        }()
        require(frames == streamed, "record stream cut at \(cut) gives other frames than whole")
        // Ids decode leniently (invalid UTF-8 replaced, which can lengthen them); those that
        // still fit a frame re-encode.
        guard let frames, frames.allSatisfy({ $0.id.utf8.count <= Int(UInt16.max) }) else { return }
        var buffer = ByteBuffer()
        for f in frames { RecordFrames.append(id: f.id, deliveryCount: f.deliveryCount, payload: f.payload, to: &buffer) }
        var again = RecordFrameDecoder(maxPayload: 1 << 20)
        require((try? again.feed(buffer)) == frames, "\(frames.count) decoded record frames do not re-encode to the same frames")
    }
}
