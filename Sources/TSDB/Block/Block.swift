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
        try decodeTimestamps(meta, into: &timestamps, scratch: &scratch)
        try decodeValues(meta, into: &values, scratch: &scratch)
    }

    /// Decodes a chunk's timestamp column (checksum verified) into the first `meta.count`
    /// slots of `timestamps`, growing it when needed.
    func decodeTimestamps(_ meta: ChunkMeta, into timestamps: inout [Int64], scratch: inout [UInt8]) throws {
        let n = meta.count
        if timestamps.count < n { timestamps = [Int64](repeating: 0, count: n) }
        try decodeColumn(meta, at: meta.tsOffset) {
            let frame = try ColumnFrame.read(bytes, at: meta.tsOffset)
            return try ColumnFrame.withColumn(frame, scratch: &scratch) { col in
                try timestamps.withUnsafeMutableBufferPointer { try TimestampCodec.decode(col, into: $0) }
            }
        }
    }

    /// Decodes a chunk's value column (checksum verified) into the first `meta.count` slots
    /// of `values`, growing it when needed.
    func decodeValues(_ meta: ChunkMeta, into values: inout [Double], scratch: inout [UInt8]) throws {
        let n = meta.count
        if values.count < n { values = [Double](repeating: 0, count: n) }
        try decodeColumn(meta, at: meta.valueOffset) {
            let frame = try ColumnFrame.read(bytes, at: meta.valueOffset)
            return try ColumnFrame.withColumn(frame, scratch: &scratch) { col in
                try values.withUnsafeMutableBufferPointer { try ValueCodec.decode(col, into: $0) }
            }
        }
    }

    /// Runs one column decode, checking it yields the announced sample count and naming
    /// the file and offset in any codec error.
    private func decodeColumn(_ meta: ChunkMeta, at offset: Int, _ decode: () throws -> Int) throws {
        do {
            let decoded = try decode()
            guard decoded == meta.count else {
                throw CodecError.malformed("chunk announces \(meta.count) samples, its column at offset \(offset) holds \(decoded)")
            }
        } catch let e as CodecError {
            throw TSDBError.corrupt(path: "\(path)/\(BlockFormat.chunksFile)", message: "chunk at offset \(meta.valueOffset): \(e)")
        }
    }
}
