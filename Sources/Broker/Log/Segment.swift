#if canImport(Glibc)
import Glibc
#endif
import Logging
import Primitives

/// One record as stored: its offset in the partition, the produce time and the opaque payload.
package struct StoredRecord: Sendable {
    package let offset: UInt64
    package let timestamp: Int64
    package let payload: [UInt8]
}

/// The on-disk record frame: `[u32 length][u32 crc32c][u64 offset][i64 timestamp][payload]`,
/// big-endian; the CRC covers offset, timestamp and payload, so a torn or flipped record is
/// recognised on recovery.
enum RecordFrame {
    static let headerSize = 24
    /// The largest payload a frame may declare; a length field above it is corruption, never
    /// an allocation of that size.
    static let maxPayloadBytes = 1 << 30

    static func encode(offset: UInt64, timestamp: Int64, payload: [UInt8], into out: inout [UInt8]) {
        out.appendBE(UInt32(payload.count))
        let crcAt = out.count
        out.appendBE(UInt32(0))
        out.appendBE(offset)
        out.appendBE(UInt64(bitPattern: timestamp))
        out.append(contentsOf: payload)
        let crc = out.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[(crcAt + 4)...])) }
        out[crcAt] = UInt8(truncatingIfNeeded: crc >> 24); out[crcAt + 1] = UInt8(truncatingIfNeeded: crc >> 16)
        out[crcAt + 2] = UInt8(truncatingIfNeeded: crc >> 8); out[crcAt + 3] = UInt8(truncatingIfNeeded: crc)
    }
}

/// A segment file of one partition: a 16-byte header (magic `TBSG`, version, base offset)
/// followed by record frames with consecutive offsets. Appends go through `pwrite` at the
/// known end, so a failed append is undone by truncating back; `fsync` may run on the
/// flusher thread concurrently with appends (the descriptor lives as long as the object).
package final class Segment: @unchecked Sendable {
    static let magic: UInt32 = 0x5442_5347  // "TBSG"
    static let version: UInt32 = 1
    static let headerSize = 16

    let path: String
    let fd: Int32
    package let baseOffset: UInt64
    /// Bytes of valid data (header included); only touched by the owning actor.
    package private(set) var size: Int
    /// Byte position of each record, index = offset - baseOffset.
    private(set) var positions: [UInt32] = []
    private(set) var lastTimestamp: Int64 = 0
    var deleted = false
    let syncGate: SyncGate

    var endOffset: UInt64 { baseOffset + UInt64(positions.count) }
    package var recordCount: Int { positions.count }

    package static func fileName(baseOffset: UInt64) -> String {
        let digits = String(baseOffset)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + ".log"
    }

    private init(path: String, fd: Int32, baseOffset: UInt64, size: Int) {
        self.path = path
        self.fd = fd
        self.baseOffset = baseOffset
        self.size = size
        self.syncGate = SyncGate(label: "broker-fsync")
    }

    deinit {
        close(fd)
        if deleted { unlink(path) }
    }

    /// Creates an empty segment and makes its existence durable (directory fsync).
    static func create(directory: String, baseOffset: UInt64, durable: Bool) throws -> Segment {
        let path = directory + "/" + fileName(baseOffset: baseOffset)
        let fd = try FileIO.open(path, create: true)
        var header: [UInt8] = []
        header.appendBE(magic); header.appendBE(version); header.appendBE(baseOffset)
        let err = header.withUnsafeBytes { FileIO.pwriteAll(fd, $0, at: 0) }
        if let err {
            close(fd); unlink(path)
            throw BrokerError.unavailable(reason: "cannot create segment: \(String(cString: strerror(err)))", retryAfter: .seconds(1))
        }
        _ = ftruncate(fd, off_t(headerSize))
        if durable {
            IOFaults.before(.fsync, path)
            _ = fsync(fd)
            try? DurableFile.syncDirectory(directory)
        }
        return Segment(path: path, fd: fd, baseOffset: baseOffset, size: headerSize)
    }

    /// Opens an existing segment, validating every frame; a torn or corrupt tail is cut off
    /// (and reported) so the next append continues from the last good record.
    package static func open(path: String, logger: Logger) throws -> Segment {
        let fd = try FileIO.open(path, create: false)
        let fileSize = FileIO.fileSize(fd)
        let bytes = try FileIO.pread(fd, count: fileSize, at: 0)
        guard bytes.count >= headerSize else {
            close(fd)
            throw BrokerError.io("segment \(path) has no header (\(bytes.count) bytes)")
        }
        let (magic, version, base) = bytes.withUnsafeBytes { ($0.readBE32(0), $0.readBE32(4), $0.readBE64(8)) }
        guard magic == Segment.magic else { close(fd); throw BrokerError.io("\(path) is not a broker segment") }
        guard version == Segment.version else {
            close(fd); throw BrokerError.io("\(path) has segment format version \(version); this build reads version \(Segment.version)")
        }
        guard base <= RecordID.maxOffset else {
            close(fd); throw BrokerError.io("\(path) is corrupt: its header declares base offset \(base), above the largest offset \(RecordID.maxOffset); move the file away to start the partition without it")
        }
        let segment = Segment(path: path, fd: fd, baseOffset: base, size: headerSize)
        var pos = headerSize
        var expected = base
        var problem: String?
        bytes.withUnsafeBytes { buf in
            while pos < buf.count {
                guard buf.count - pos >= RecordFrame.headerSize else { problem = "torn header"; break }
                let length = Int(buf.readBE32(pos))
                guard length <= RecordFrame.maxPayloadBytes else {
                    problem = "corrupt length field \(length) at byte \(pos) (largest record: \(RecordFrame.maxPayloadBytes))"
                    break
                }
                guard buf.count - pos - RecordFrame.headerSize >= length else { problem = "torn record"; break }
                guard pos <= Int(UInt32.max) else { problem = "segment longer than 4 GiB"; break }
                let crc = buf.readBE32(pos + 4)
                let body = UnsafeRawBufferPointer(rebasing: buf[(pos + 8)..<(pos + RecordFrame.headerSize + length)])
                guard CRC32C.checksum(body) == crc else { problem = "checksum mismatch"; break }
                let offset = buf.readBE64(pos + 8)
                guard offset == expected else { problem = "offset \(offset) where \(expected) was expected"; break }
                // The offset after the last record must exist too (endOffset, the next append).
                guard expected < UInt64.max else { problem = "offset \(offset) is the largest there is"; break }
                segment.positions.append(UInt32(pos))
                segment.lastTimestamp = Int64(bitPattern: buf.readBE64(pos + 16))
                expected += 1
                pos += RecordFrame.headerSize + length
            }
        }
        segment.size = pos
        if let problem {
            logger.warning("segment tail truncated", metadata: [
                "segment": "\(path)", "reason": "\(problem)", "kept_records": "\(segment.positions.count)",
                "dropped_bytes": "\(bytes.count - pos)",
            ])
            _ = ftruncate(fd, off_t(pos))
            _ = fsync(fd)
        }
        return segment
    }

    /// Appends pre-encoded frames (`frameSizes` gives each frame's length). Either all land or
    /// none: on a write error the file is truncated back and the error is thrown.
    func append(frames: [UInt8], frameSizes: [Int], lastTimestamp: Int64) throws {
        try write(frames: frames, at: size)
        commit(frameSizes: frameSizes, lastTimestamp: lastTimestamp)
    }

    /// The I/O half of an append: writes `frames` at byte `position` (the current `size`),
    /// truncating back on failure. Touches only the descriptor, so it may run on an `IOLane`
    /// while the owner keeps reading the committed records.
    func write(frames: [UInt8], at position: Int) throws {
        // Record positions are 32-bit: a segment never grows past 4 GiB.
        guard position + frames.count <= Int(UInt32.max) else {
            throw BrokerError.invalidRequest("append of \(frames.count) bytes would grow \(path) past 4 GiB; lower SEGMENT_BYTES or MAX_BODY_BYTES")
        }
        IOFaults.before(.write, path)
        let err = frames.withUnsafeBytes { FileIO.pwriteAll(fd, $0, at: position) }
        if let err {
            _ = ftruncate(fd, off_t(position))
            let reason = String(cString: strerror(err))
            if err == ENOSPC || err == EDQUOT {
                throw BrokerError.unavailable(reason: "disk full (\(reason))", retryAfter: .seconds(1))
            }
            throw BrokerError.io("append to \(path): \(reason)")
        }
    }

    /// The bookkeeping half of an append, on the owner once `write` succeeded.
    func commit(frameSizes: [Int], lastTimestamp: Int64) {
        var pos = size
        for s in frameSizes {
            positions.append(UInt32(truncatingIfNeeded: pos))  // < 4 GiB, checked by write
            pos += s
        }
        size = pos
        self.lastTimestamp = lastTimestamp
    }

    /// Byte range `start ..< end` of the records `from ..< from + maxCount` (clamped to this segment).
    package func range(from offset: UInt64, maxCount: Int) -> (start: Int, end: Int)? {
        guard offset >= baseOffset, offset < endOffset, maxCount > 0 else { return nil }
        let first = Int(offset - baseOffset)
        let last = min(positions.count, first + min(maxCount, positions.count))
        let start = Int(positions[first])
        let end = last < positions.count ? Int(positions[last]) : size
        return (start, end)
    }

    /// Reads the records `from ..< from + count` (clamped to this segment) with one `pread`.
    package func read(from offset: UInt64, maxCount: Int) throws -> [StoredRecord] {
        guard let r = range(from: offset, maxCount: maxCount) else { return [] }
        return try readRecords(start: r.start, end: r.end)
    }

    /// Reads and checks the frames in bytes `start ..< end` (a `range` result). Touches only
    /// the descriptor, so it may run on an `IOLane`.
    package func readRecords(start: Int, end: Int) throws -> [StoredRecord] {
        IOFaults.before(.read, path)
        let bytes = try FileIO.pread(fd, count: end - start, at: start)
        var out: [StoredRecord] = []
        try bytes.withUnsafeBytes { buf in
            var pos = 0
            while pos + RecordFrame.headerSize <= buf.count {
                let length = Int(buf.readBE32(pos))
                guard length <= buf.count - pos - RecordFrame.headerSize else { break }
                let crc = buf.readBE32(pos + 4)
                let body = UnsafeRawBufferPointer(rebasing: buf[(pos + 8)..<(pos + RecordFrame.headerSize + length)])
                guard CRC32C.checksum(body) == crc else {
                    throw BrokerError.io("checksum mismatch in \(path) at byte \(start + pos)")
                }
                let payloadStart = pos + RecordFrame.headerSize
                out.append(StoredRecord(
                    offset: buf.readBE64(pos + 8),
                    timestamp: Int64(bitPattern: buf.readBE64(pos + 16)),
                    payload: Array(buf[payloadStart..<(payloadStart + length)])))
                pos = payloadStart + length
            }
        }
        return out
    }

    func sync() -> Int32 { fsync(fd) == 0 ? 0 : errno }
}
