import Foundation

/// An open, immutable block: its index in memory and its chunk file mapped read-only.
/// Readers hold a reference; a block deleted by compaction or retention stays readable
/// until the last reference goes (the mapping outlives the unlink).
final class Block: @unchecked Sendable {
    let record: BlockRecord
    let path: String
    private let map: UnsafeMutableRawPointer?
    private let mapLength: Int
    /// Chunks of series `id` are `metas[ranges[id]]`.
    private let metas: [ChunkMeta]
    private let ranges: [UInt32: Range<Int>]

    var seriesIDs: Dictionary<UInt32, Range<Int>>.Keys { ranges.keys }

    init(path: String, record: BlockRecord) throws {
        self.path = path
        self.record = record
        let indexPath = "\(path)/\(BlockFormat.indexFile)"
        guard let indexData = FileManager.default.contents(atPath: indexPath) else {
            throw TSDBError.io(path: indexPath, message: "cannot read the block index")
        }
        let entries = try BlockFormat.decodeIndex([UInt8](indexData), blockMin: record.minTime, path: indexPath)
        var metas: [ChunkMeta] = []
        var ranges: [UInt32: Range<Int>] = [:]
        ranges.reserveCapacity(entries.count)
        for e in entries {
            ranges[e.id] = metas.count..<(metas.count + e.chunks.count)
            metas.append(contentsOf: e.chunks)
        }
        self.metas = metas
        self.ranges = ranges

        let chunksPath = "\(path)/\(BlockFormat.chunksFile)"
        let fd = open(chunksPath, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw TSDBError.io(path: chunksPath, message: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw TSDBError.io(path: chunksPath, message: String(cString: strerror(errno))) }
        mapLength = Int(st.st_size)
        guard mapLength >= 8 else { throw TSDBError.corrupt(path: chunksPath, message: "chunk file too short") }
        let p = mmap(nil, mapLength, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else { throw TSDBError.io(path: chunksPath, message: "mmap failed: \(String(cString: strerror(errno)))") }
        map = p
        guard Array(UnsafeRawBufferPointer(start: p, count: 4)) == BlockFormat.chunksMagic else {
            munmap(p, mapLength)
            throw TSDBError.corrupt(path: chunksPath, message: "not a chunk file (bad magic)")
        }
        for m in metas where m.tsOffset >= mapLength || m.valueOffset >= mapLength {
            munmap(p, mapLength)
            throw TSDBError.corrupt(path: indexPath, message: "chunk offset past the end of the chunk file")
        }
    }

    deinit {
        if let map { munmap(map, mapLength) }
    }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: map, count: mapLength) }

    func chunks(of id: UInt32) -> ArraySlice<ChunkMeta> {
        guard let r = ranges[id] else { return [] }
        return metas[r]
    }

    var allChunks: [ChunkMeta] { metas }

    /// Decodes one chunk's timestamps and values, verifying both checksums.
    func decode(_ meta: ChunkMeta, timestamps: inout [Int64], values: inout [Double], scratch: inout [UInt8]) throws {
        let n = meta.count
        if timestamps.count < n { timestamps = [Int64](repeating: 0, count: n) }
        if values.count < n { values = [Double](repeating: 0, count: n) }
        do {
            let tsFrame = try ColumnFrame.read(bytes, at: meta.tsOffset)
            let tn = try ColumnFrame.withColumn(tsFrame, scratch: &scratch) { col in
                try timestamps.withUnsafeMutableBufferPointer { try TimestampCodec.decode(col, into: $0) }
            }
            let valFrame = try ColumnFrame.read(bytes, at: meta.valueOffset)
            let vn = try ColumnFrame.withColumn(valFrame, scratch: &scratch) { col in
                try values.withUnsafeMutableBufferPointer { try ValueCodec.decode(col, into: $0) }
            }
            guard tn == n, vn == n else {
                throw CodecError.malformed("chunk announces \(n) samples, columns hold \(tn) and \(vn)")
            }
        } catch let e as CodecError {
            throw TSDBError.corrupt(path: "\(path)/\(BlockFormat.chunksFile)", message: "chunk at offset \(meta.valueOffset): \(e)")
        }
    }
}
