import Foundation
import Primitives

/// Writes one immutable block: encodes every series into chunks, shares identical
/// timestamp columns, writes the files into a temporary directory, fsyncs them and renames
/// the directory into place. Only then may the caller register it, so a reader never sees
/// a half-written block.
struct BlockWriter {
    /// One series' samples for a block, sorted by time with unique timestamps.
    struct SeriesData {
        var id: UInt32
        var timestamps: [Int64]
        var values: [Double]
    }

    let blocksDirectory: String
    let samplesPerChunk: Int

    /// `series` is read once, in order; a lazy sequence lets the seal hand over one raw
    /// column at a time instead of a raw copy of the whole head.
    func write<S: Sequence<SeriesData>>(id: String, series: S, priority: Int64, level: Int) throws -> BlockRecord {
        var chunks: [UInt8] = BlockFormat.chunksMagic
        chunks.appendFixed(BlockFormat.version)
        var sharedTimestamps: [[UInt8]: Int] = [:]
        var entries: [BlockFormat.SeriesEntry] = []
        entries.reserveCapacity(series.underestimatedCount)
        var minT = Int64.max, maxT = Int64.min, samples = 0, chunkCount = 0
        var encoded: [UInt8] = []
        for s in series where !s.timestamps.isEmpty {
            var metas: [ChunkMeta] = []
            var start = 0
            let n = s.timestamps.count
            while start < n {
                let end = Swift.min(n, start + Swift.max(1, Swift.min(samplesPerChunk, BlockFormat.maxChunkSamples)))
                encoded.removeAll(keepingCapacity: true)
                s.timestamps.withUnsafeBufferPointer { TimestampCodec.encode(UnsafeBufferPointer(rebasing: $0[start..<end]), into: &encoded) }
                let tsOffset: Int
                if let existing = sharedTimestamps[encoded] {
                    tsOffset = existing
                } else {
                    tsOffset = chunks.count
                    ColumnFrame.append(encoded, to: &chunks)
                    sharedTimestamps[encoded] = tsOffset
                }
                encoded.removeAll(keepingCapacity: true)
                let summary = s.values.withUnsafeBufferPointer { v -> ChunkSummary in
                    let slice = UnsafeBufferPointer(rebasing: v[start..<end])
                    ValueCodec.encode(slice, into: &encoded)
                    return ChunkSummary(values: slice)
                }
                let valueOffset = chunks.count
                ColumnFrame.append(encoded, to: &chunks)
                metas.append(ChunkMeta(minTime: s.timestamps[start], maxTime: s.timestamps[end - 1],
                                       tsOffset: tsOffset, valueOffset: valueOffset, summary: summary))
                start = end
            }
            minT = Swift.min(minT, s.timestamps[0])
            maxT = Swift.max(maxT, s.timestamps[n - 1])
            samples += n
            chunkCount += metas.count
            entries.append(BlockFormat.SeriesEntry(id: s.id, chunks: metas))
        }
        if entries.isEmpty { minT = 0; maxT = 0 }
        let index = BlockFormat.encodeIndex(entries, blockMin: minT)
        let meta = BlockFormat.Meta(id: id, version: Int(BlockFormat.version), minTime: minT, maxTime: maxT, samples: samples,
                                    series: entries.count, chunks: chunkCount, priority: priority, level: level)
        let metaBytes = [UInt8]((try? JSONEncoder().encode(meta)) ?? Data())

        let tmp = "\(blocksDirectory)/.tmp-\(id)"
        let final = "\(blocksDirectory)/\(id)"
        let fm = FileManager.default
        try? fm.removeItem(atPath: tmp)
        do {
            try fm.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        } catch {
            throw TSDBError.io(path: tmp, message: "\(error)")
        }
        try Self.writeSynced("\(tmp)/\(BlockFormat.chunksFile)", chunks)
        try Self.writeSynced("\(tmp)/\(BlockFormat.indexFile)", index)
        try Self.writeSynced("\(tmp)/\(BlockFormat.metaFile)", metaBytes)
        try Self.fsyncDirectory(tmp)
        guard rename(tmp, final) == 0 else {
            throw TSDBError.io(path: final, message: "rename failed: \(String(cString: strerror(errno)))")
        }
        try Self.fsyncDirectory(blocksDirectory)
        let bytes = Int64(chunks.count + index.count + metaBytes.count)
        return BlockRecord(id: id, minTime: minT, maxTime: maxT, samples: samples, series: entries.count,
                           chunks: chunkCount, bytes: bytes, priority: priority, level: level)
    }

    static func writeSynced(_ path: String, _ bytes: [UInt8]) throws {
        do { try DurableFile.write(path, bytes) } catch { throw TSDBError.io(path: error.path, message: error.description) }
    }

    static func fsyncDirectory(_ path: String) throws {
        do { try DurableFile.syncDirectory(path) } catch { throw TSDBError.io(path: error.path, message: error.description) }
    }
}
