import Foundation

/// An open, immutable block: its index in memory and its chunk file mapped read-only.
/// Readers hold a reference; a block deleted by compaction or retention stays readable
/// until the last reference goes (the mapping outlives the unlink).
package final class Block: @unchecked Sendable {
    let record: BlockRecord
    let path: String
    private let map: UnsafeMutableRawPointer?
    private let mapLength: Int
    /// Chunks of series `id` are `metas[ranges[id]]`.
    private let metas: [ChunkMeta]
    private let ranges: [UInt32: Range<Int>]

    package var seriesIDs: Dictionary<UInt32, Range<Int>>.Keys { ranges.keys }

    package init(path: String, record: BlockRecord) throws {
        self.path = path
        self.record = record
        let indexPath = "\(path)/\(BlockFormat.indexFile)"
        let entries = try BlockFormat.decodeIndex(try FileBytes.read(indexPath), blockMin: record.minTime, path: indexPath)
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

    package func chunks(of id: UInt32) -> ArraySlice<ChunkMeta> {
        guard let r = ranges[id] else { return [] }
        return metas[r]
    }

    /// Decodes one chunk's timestamps and values, verifying both checksums.
    package func decode(_ meta: ChunkMeta, timestamps: inout [Int64], values: inout [Double], scratch: inout [UInt8]) throws {
        try decodeTimestamps(meta, into: &timestamps, scratch: &scratch)
        try decodeValues(meta, into: &values, scratch: &scratch)
    }

    /// Decodes a chunk's timestamp column (checksum verified) into the first `meta.count`
    /// slots of `timestamps`, growing it when needed.
    func decodeTimestamps(_ meta: ChunkMeta, into timestamps: inout [Int64], scratch: inout [UInt8]) throws {
        try decodeColumn(meta, at: meta.tsOffset, into: &timestamps, scratch: &scratch) { try TimestampCodec.decode($0, into: $1) }
    }

    /// Decodes a chunk's value column (checksum verified) into the first `meta.count` slots
    /// of `values`, growing it when needed.
    func decodeValues(_ meta: ChunkMeta, into values: inout [Double], scratch: inout [UInt8]) throws {
        try decodeColumn(meta, at: meta.valueOffset, into: &values, scratch: &scratch) { try ValueCodec.decode($0, into: $1) }
    }

    /// As ``decodeValues(_:into:scratch:)``, but only the slots at `needed` are filled (the
    /// rest are unspecified): decoding stops after them and skips what it can before them.
    func decodeValues(_ meta: ChunkMeta, needed: Range<Int>, into values: inout [Double], scratch: inout [UInt8]) throws {
        try decodeColumn(meta, at: meta.valueOffset, into: &values, scratch: &scratch) { try ValueCodec.decode($0, into: $1, needed: needed) }
    }

    /// Reads the column frame at `offset`, decompresses it when needed and decodes it with
    /// `codec`, checking it yields the announced sample count; codec errors name the file
    /// and offset.
    private func decodeColumn<T: Numeric>(_ meta: ChunkMeta, at offset: Int, into out: inout [T], scratch: inout [UInt8],
                                          _ codec: (UnsafeRawBufferPointer, UnsafeMutableBufferPointer<T>) throws -> Int) throws {
        if out.count < meta.count { out = [T](repeating: 0, count: meta.count) }
        do {
            let frame = try ColumnFrame.read(bytes, at: offset)
            let decoded = try ColumnFrame.withColumn(frame, scratch: &scratch) { col in
                try out.withUnsafeMutableBufferPointer { try codec(col, $0) }
            }
            guard decoded == meta.count else {
                throw CodecError.malformed("chunk announces \(meta.count) samples, its column holds \(decoded)")
            }
        } catch let e as CodecError {
            throw TSDBError.corrupt(path: "\(path)/\(BlockFormat.chunksFile)", message: "column at offset \(offset): \(e)")
        }
    }
}
