import Foundation
import Primitives

/// The files of a block directory `blocks/<id>/`:
/// - `chunks`: `TCHK` + u32 version, then column frames (``ColumnFrame``). A timestamp
///   column shared by several series (every metric of a DCGM scrape has the same
///   timestamps) is stored once and referenced by all of them.
/// - `index`: `TIDX` + u32 version, `u8 flags` (bit 0 LZ4), `varint rawLength`, payload,
///   `u32 CRC32C` of all preceding bytes. Payload: `varint seriesCount`, then per series
///   `varint idDelta`, `varint chunkCount`, per chunk `svarint minTime−blockMin`,
///   `varint maxTime−minTime`, `varint count`, `varint tsOffset`, `varint valueOffset`,
///   `u8 flags` (bit 0: NaN present), then min, max, sum, first, last as u64 bit patterns
///   (a single-sample chunk stores just its value).
/// - `meta.json`: the registry record, for people and tools.
package enum BlockFormat {
    static let chunksMagic: [UInt8] = Array("TCHK".utf8)
    static let indexMagic: [UInt8] = Array("TIDX".utf8)
    static let version: UInt32 = 1
    /// Most samples one chunk may hold, in the index as written and as read: a corrupt or
    /// crafted index cannot make a query allocate more than this many slots (8 MiB of
    /// doubles) to decode one chunk. Writers use at most ``TSDBOptions/samplesPerChunk``,
    /// which `--chunk-samples` keeps to 65,536.
    static let maxChunkSamples = 1 << 20
    package static let chunksFile = "chunks"
    package static let indexFile = "index"
    static let metaFile = "meta.json"

    struct Meta: Codable {
        var id: String
        var version: Int
        var minTime: Int64
        var maxTime: Int64
        var samples: Int
        var series: Int
        var chunks: Int
        var priority: Int64
        var level: Int
    }

    package struct SeriesEntry {
        package var id: UInt32
        package var chunks: [ChunkMeta]
    }

    package static func encodeIndex(_ entries: [SeriesEntry], blockMin: Int64) -> [UInt8] {
        var p: [UInt8] = []
        p.appendVarint(UInt64(entries.count))
        var prevID: UInt32 = 0
        for e in entries {
            p.appendVarint(UInt64(e.id &- prevID))
            prevID = e.id
            p.appendVarint(UInt64(e.chunks.count))
            for c in e.chunks {
                p.appendSignedVarint(c.minTime &- blockMin)
                p.appendVarint(UInt64(bitPattern: c.maxTime &- c.minTime))
                p.appendVarint(UInt64(c.summary.count))
                p.appendVarint(UInt64(c.tsOffset))
                p.appendVarint(UInt64(c.valueOffset))
                p.append(c.summary.hasNaN ? 1 : 0)
                if c.summary.count > 1 {
                    for v in [c.summary.min, c.summary.max, c.summary.sum, c.summary.first, c.summary.last] {
                        p.appendFixed(v.bitPattern)
                    }
                } else {
                    p.appendFixed(c.summary.first.bitPattern)
                }
            }
        }
        var out = indexMagic
        out.appendFixed(version)
        if let packed = LZ4.compress(p) {
            out.append(1)
            out.appendVarint(UInt64(p.count))
            out.append(contentsOf: packed)
        } else {
            out.append(0)
            out.appendVarint(UInt64(p.count))
            out.append(contentsOf: p)
        }
        out.appendFixed(CRC32C.checksum(out))
        return out
    }

    package static func decodeIndex(_ bytes: [UInt8], blockMin: Int64, path: String) throws -> [SeriesEntry] {
        func corrupt(_ m: String) -> TSDBError { .corrupt(path: path, message: m) }
        guard bytes.count >= 13, Array(bytes[0..<4]) == indexMagic else { throw corrupt("not a block index (bad magic)") }
        let stored = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: bytes.count - 4, as: UInt32.self).littleEndian }
        let actual = bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[..<(bytes.count - 4)])) }
        guard stored == actual else { throw corrupt("index checksum mismatch") }
        do {
            return try bytes.withUnsafeBytes { raw in
                var r = ByteReader(UnsafeRawBufferPointer(rebasing: raw[..<(bytes.count - 4)]), offset: 4)
                let version = try r.fixed(UInt32.self)
                guard version == BlockFormat.version else { throw corrupt("unsupported block version \(version)") }
                let flags = try r.byte()
                let rawLength = try r.length("index payload")
                let payload: [UInt8]
                if flags & 1 != 0 {
                    payload = try LZ4.decompress(r.slice(r.remaining), rawCount: rawLength)
                } else {
                    payload = Array(try r.slice(rawLength))
                }
                return try payload.withUnsafeBytes { pr in
                    var p = ByteReader(pr)
                    let n = try p.length("series count")
                    guard n <= pr.count else { throw CodecError.malformed("series count \(n)") }
                    var entries: [SeriesEntry] = []
                    entries.reserveCapacity(n)
                    var id: UInt32 = 0
                    for _ in 0..<n {
                        id = id &+ UInt32(truncatingIfNeeded: try p.varint())
                        let chunkCount = try p.length("chunk count")
                        guard chunkCount <= pr.count else { throw CodecError.malformed("chunk count \(chunkCount)") }
                        var chunks: [ChunkMeta] = []
                        chunks.reserveCapacity(chunkCount)
                        for _ in 0..<chunkCount {
                            let minT = blockMin &+ (try p.signedVarint())
                            let maxT = minT &+ Int64(bitPattern: try p.varint())
                            let count = try p.length("sample count", limit: BlockFormat.maxChunkSamples)
                            let tsOff = try p.length("timestamp column offset", limit: .max)
                            let valOff = try p.length("value column offset", limit: .max)
                            let nan = try p.byte() & 1 != 0
                            let summary: ChunkSummary
                            if count > 1 {
                                var v = [Double](repeating: 0, count: 5)
                                for k in 0..<5 { v[k] = Double(bitPattern: try p.fixed(UInt64.self)) }
                                summary = ChunkSummary(count: count, min: v[0], max: v[1], sum: v[2], first: v[3], last: v[4], hasNaN: nan)
                            } else {
                                let v = Double(bitPattern: try p.fixed(UInt64.self))
                                summary = ChunkSummary(count: count, min: v, max: v, sum: v, first: v, last: v, hasNaN: nan)
                            }
                            chunks.append(ChunkMeta(minTime: minT, maxTime: maxT, tsOffset: tsOff, valueOffset: valOff, summary: summary))
                        }
                        entries.append(SeriesEntry(id: id, chunks: chunks))
                    }
                    return entries
                }
            }
        } catch let e as TSDBError {
            throw e
        } catch {
            throw corrupt("index: \(error)")
        }
    }
}
