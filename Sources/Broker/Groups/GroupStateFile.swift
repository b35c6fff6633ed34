#if canImport(Glibc)
import Glibc
#endif
import Logging
import Primitives

/// The durable state of one consumer group on one partition: an append-only file of
/// 13-byte entries `[u8 kind][u64 offset][u32 crc32c]` after an 8-byte header (magic `TBGS`,
/// version). Kinds: `base` (everything below the offset is acked: written first by a
/// snapshot), `ack` and `deadLetter` (one offset settled). Replaying it yields the committed
/// offset and the acked offsets above it; a torn tail entry is dropped (it was never
/// acknowledged to anyone, because acks answer only after the entry is durable).
package final class GroupStateFile {
    enum Kind: UInt8 { case base = 1, ack = 2, deadLetter = 3 }

    static let magic: UInt32 = 0x5442_4753  // "TBGS"
    static let version: UInt32 = 1
    static let headerSize = 8
    static let entrySize = 13

    let path: String
    private let directory: String
    private(set) var file: FileRef
    private var size: Int
    private(set) var entriesSinceSnapshot = 0
    private let durable: Bool

    private init(path: String, directory: String, file: FileRef, size: Int, durable: Bool) {
        self.path = path
        self.directory = directory
        self.file = file
        self.size = size
        self.durable = durable
    }

    /// File name for a group: hex of its name, so any valid group name maps to a safe file.
    package static func fileName(group: String) -> String {
        "group-" + group.utf8.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined() + ".state"
    }

    static func groupName(fileName: String) -> String? {
        guard fileName.hasPrefix("group-"), fileName.hasSuffix(".state") else { return nil }
        let hex = Array(fileName.dropFirst(6).dropLast(6).utf8)
        guard hex.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        var i = 0
        while i < hex.count {
            guard let b = UInt8(String(decoding: hex[i..<(i + 2)], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(b)
            i += 2
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Opens (or creates) the state file and replays it.
    package static func open(directory: String, group: String, durable: Bool, logger: Logger) throws
        -> (file: GroupStateFile, committed: UInt64, acked: Set<UInt64>)
    {
        let path = directory + "/" + fileName(group: group)
        let fd = try FileIO.open(path, create: true)
        let ref = FileRef(fd: fd, path: path)
        let bytes = try FileIO.pread(fd, count: FileIO.fileSize(fd), at: 0)
        var committed: UInt64 = 0
        var acked = Set<UInt64>()
        if bytes.count < headerSize {
            var header: [UInt8] = []
            header.appendBE(magic); header.appendBE(version)
            if let err = header.withUnsafeBytes({ FileIO.pwriteAll(fd, $0, at: 0) }) {
                throw BrokerError.io("cannot write \(path): \(String(cString: strerror(err)))")
            }
            _ = ftruncate(fd, off_t(headerSize))
            if durable { _ = fsync(fd); try? DurableFile.syncDirectory(directory) }
            return (GroupStateFile(path: path, directory: directory, file: ref, size: headerSize, durable: durable), 0, [])
        }
        let (m, v) = bytes.withUnsafeBytes { ($0.readBE32(0), $0.readBE32(4)) }
        guard m == magic, v == version else {
            throw BrokerError.io("\(path) is not a group state file of version \(version)")
        }
        var pos = headerSize
        var entries = 0
        bytes.withUnsafeBytes { buf in
            while pos + entrySize <= buf.count {
                let crc = buf.readBE32(pos + 9)
                guard CRC32C.checksum(UnsafeRawBufferPointer(rebasing: buf[pos..<(pos + 9)])) == crc,
                      let kind = Kind(rawValue: buf[pos]) else { break }
                let offset = buf.readBE64(pos + 1)
                guard offset <= RecordID.maxOffset else { break }  // a checksummed but impossible entry: corrupt
                switch kind {
                case .base: committed = max(committed, offset)
                case .ack, .deadLetter: if offset >= committed { acked.insert(offset) }
                }
                pos += entrySize
                entries += 1
            }
        }
        if pos != bytes.count {
            logger.warning("group state tail truncated", metadata: ["file": "\(path)", "dropped_bytes": "\(bytes.count - pos)"])
            _ = ftruncate(fd, off_t(pos))
        }
        while committed < UInt64.max, acked.remove(committed) != nil { committed += 1 }
        acked = acked.filter { $0 >= committed }
        let file = GroupStateFile(path: path, directory: directory, file: ref, size: pos, durable: durable)
        file.entriesSinceSnapshot = entries
        return (file, committed, acked)
    }

    /// Appends one entry per offset with a single write; the caller syncs `file` before answering.
    func append(kind: Kind, offsets: [UInt64]) throws {
        guard let pending = prepareAppend(kind: kind, offsets: offsets) else { return }
        try Self.write(pending)
        commit(pending)
    }

    /// An append whose bytes are encoded and whose position is fixed; written by `write`
    /// (anywhere, e.g. on an `IOLane`), then recorded by `commit` on the owner.
    struct PendingAppend: Sendable {
        let file: FileRef
        let bytes: [UInt8]
        let position: Int
        let entries: Int
    }

    func prepareAppend(kind: Kind, offsets: [UInt64]) -> PendingAppend? {
        guard !offsets.isEmpty else { return nil }
        return PendingAppend(file: file, bytes: Self.encode(kind: kind, offsets: offsets), position: size, entries: offsets.count)
    }

    static func write(_ a: PendingAppend) throws {
        IOFaults.before(.write, a.file.path)
        if let err = a.bytes.withUnsafeBytes({ FileIO.pwriteAll(a.file.fd, $0, at: a.position) }) {
            _ = ftruncate(a.file.fd, off_t(a.position))
            throw BrokerError.unavailable(reason: "cannot record ack: \(String(cString: strerror(err)))", retryAfter: .seconds(1))
        }
    }

    func commit(_ a: PendingAppend) {
        size = a.position + a.bytes.count
        entriesSinceSnapshot += a.entries
    }

    /// Rewrites the file as `base committed` plus the acked offsets above it (write to a temp
    /// file, fsync, rename, fsync the directory), so the file stays small.
    func snapshot(committed: UInt64, acked: Set<UInt64>) throws {
        let s = prepareSnapshot(committed: committed, acked: acked)
        install(try Self.write(s), s)
    }

    /// A snapshot encoded on the owner; `write` does the I/O (e.g. on an `IOLane`), then
    /// `install` switches the owner to the new file. No append may run in between.
    struct PendingSnapshot: Sendable {
        let path: String
        let directory: String
        let bytes: [UInt8]
        let entries: Int
        let durable: Bool
    }

    func prepareSnapshot(committed: UInt64, acked: Set<UInt64>) -> PendingSnapshot {
        var bytes: [UInt8] = []
        bytes.appendBE(Self.magic); bytes.appendBE(Self.version)
        bytes.append(contentsOf: Self.encode(kind: .base, offsets: [committed]))
        bytes.append(contentsOf: Self.encode(kind: .ack, offsets: acked.sorted()))
        return PendingSnapshot(path: path, directory: directory, bytes: bytes, entries: 1 + acked.count, durable: durable)
    }

    static func write(_ s: PendingSnapshot) throws -> FileRef {
        let tmp = s.path + ".tmp"
        let fd = try FileIO.open(tmp, create: true)
        let ref = FileRef(fd: fd, path: s.path)
        _ = ftruncate(fd, 0)
        IOFaults.before(.write, s.path)
        if let err = s.bytes.withUnsafeBytes({ FileIO.pwriteAll(fd, $0, at: 0) }) {
            unlink(tmp)
            throw BrokerError.io("cannot write \(tmp): \(String(cString: strerror(err)))")
        }
        if s.durable {
            IOFaults.before(.fsync, s.path)
            _ = fsync(fd)
        }
        guard rename(tmp, s.path) == 0 else {
            unlink(tmp)
            throw BrokerError.io(FileIO.errnoMessage("rename", tmp))
        }
        if s.durable { try? DurableFile.syncDirectory(s.directory) }
        return ref
    }

    func install(_ ref: FileRef, _ s: PendingSnapshot) {
        file = ref
        size = s.bytes.count
        entriesSinceSnapshot = s.entries
    }

    private static func encode(kind: Kind, offsets: [UInt64]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(offsets.count * entrySize)
        for o in offsets {
            let start = out.count
            out.append(kind.rawValue)
            out.appendBE(o)
            let crc = out.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[start..<(start + 9)])) }
            out.appendBE(crc)
        }
        return out
    }
}
