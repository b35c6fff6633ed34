import Primitives
import TSDB

/// The storage engine's readers of its own files, which a crash, a bad disk or a hand edit
/// can leave in any state: WAL records and segments, block indexes, whole blocks.
enum StorageHarnesses {
    /// Even first byte: one WAL record body (after its checksum), which must re-encode to
    /// the same batch. Odd: a whole segment file replayed (and repaired) as on start-up;
    /// a second replay of the repaired file finds no problem and the same records.
    @Sendable static func wal(_ data: UnsafeRawBufferPointer) {
        let (selector, rest) = split(data)
        if selector & 1 == 0 {
            guard let batch = try? WALRecord.decode(body: rest) else { return }
            for compress in [false, true] {
                let record = WALRecord.encode(batch, compress: compress)
                let again = record.withUnsafeBytes { raw in
                    try? WALRecord.decode(body: UnsafeRawBufferPointer(rebasing: raw[WALRecord.headerSize...]))
                }
                require(again.map { sameBatch($0, batch) } ?? false, "WAL batch of \(batch.count) does not survive re-encoding (compress \(compress))")
            }
            return
        }
        let dir = Scratch.directory("wal")
        let path = "\(dir)/\(WALSegments.name(1))"
        Scratch.write(path, rest)
        let first = WALSegments.replay(dir, repair: true) { _ in }
        let second = WALSegments.replay(dir, repair: true) { _ in }
        require(second.problems.isEmpty, "a repaired WAL segment still has problems: \(second.problems)")
        require(second.records == first.records && second.samples == first.samples,
                "repair changed the good records: \(first.records) then \(second.records)")
        Scratch.remove(path)
    }

    /// A block index file. Odd first byte: its trailing checksum is fixed up first, so the
    /// decoder behind it is reached. A decoded index re-encodes to the same entries.
    @Sendable static func blockIndex(_ data: UnsafeRawBufferPointer) {
        let (selector, rest) = split(data)
        var bytes = [UInt8](rest)
        if selector & 1 == 1 { fixTrailingChecksum(&bytes) }
        guard let entries = try? BlockFormat.decodeIndex(bytes, blockMin: 1_752_846_154_000_000_000, path: "fuzz/index") else { return }
        let again = BlockFormat.encodeIndex(entries, blockMin: 1_752_846_154_000_000_000)
        guard let back = try? BlockFormat.decodeIndex(again, blockMin: 1_752_846_154_000_000_000, path: "fuzz/index") else {
            require(false, "a re-encoded block index of \(entries.count) series does not decode")
            return
        }
        require(back.count == entries.count && zip(back, entries).allSatisfy(sameEntry), "block index changes on re-encoding")
    }

    /// A whole block directory: bytes 1–2 give the index length, the index (checksum fixed
    /// up) and the chunk file follow. The block is opened as the engine opens it and every
    /// chunk of every series decoded, as a query would.
    @Sendable static func block(_ data: UnsafeRawBufferPointer) {
        guard data.count >= 3 else { return }
        let announced = Int(data[1]) | Int(data[2]) << 8
        let rest = UnsafeRawBufferPointer(rebasing: data[3...])
        let indexLength = min(announced, rest.count)
        var index = [UInt8](rest[..<indexLength])
        if data[0] & 1 == 1 { fixTrailingChecksum(&index) }
        let dir = Scratch.directory("block")
        index.withUnsafeBytes { Scratch.write("\(dir)/\(BlockFormat.indexFile)", $0) }
        Scratch.write("\(dir)/\(BlockFormat.chunksFile)", UnsafeRawBufferPointer(rebasing: rest[indexLength...]))
        let record = BlockRecord(id: "fuzz", minTime: 1_752_846_154_000_000_000, maxTime: 1_752_853_354_000_000_000,
                                 samples: 0, series: 0, chunks: 0, bytes: 0, priority: 0, level: 0)
        guard let block = try? Block(path: dir, record: record) else { return }
        var timestamps: [Int64] = [], values: [Double] = [], scratch: [UInt8] = []
        for id in block.seriesIDs {
            for meta in block.chunks(of: id) {
                _ = try? block.decode(meta, timestamps: &timestamps, values: &values, scratch: &scratch)
            }
        }
    }

    static func fixTrailingChecksum(_ bytes: inout [UInt8]) {
        guard bytes.count >= 4 else { return }
        let crc = bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[..<(bytes.count - 4)])) }
        for k in 0..<4 { bytes[bytes.count - 4 + k] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(k))) }
    }

    static func sameBatch(_ a: SampleBatch, _ b: SampleBatch) -> Bool {
        a.refs == b.refs && a.timestamps == b.timestamps && a.values.map(\.bitPattern) == b.values.map(\.bitPattern)
    }

    static func sameEntry(_ a: BlockFormat.SeriesEntry, _ b: BlockFormat.SeriesEntry) -> Bool {
        a.id == b.id && a.chunks.count == b.chunks.count && zip(a.chunks, b.chunks).allSatisfy { x, y in
            x.minTime == y.minTime && x.maxTime == y.maxTime && x.tsOffset == y.tsOffset && x.valueOffset == y.valueOffset
                && x.summary.count == y.summary.count && x.summary.hasNaN == y.summary.hasNaN
                && [x.summary.min, x.summary.max, x.summary.sum, x.summary.first, x.summary.last].map(\.bitPattern)
                    == [y.summary.min, y.summary.max, y.summary.sum, y.summary.first, y.summary.last].map(\.bitPattern)
        }
    }
}
