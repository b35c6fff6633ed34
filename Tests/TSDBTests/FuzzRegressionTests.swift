import Primitives
import Testing
@testable import TSDB

/// Inputs that crashed or exhausted memory in a decoder (found by the libFuzzer targets in
/// Fuzz/ or while writing them); each is also in Fuzz/corpus/<target>/ so the fuzz smoke
/// replays it. The decoders must refuse them with a typed error.
@Suite("Fuzz regressions: storage decoders")
struct StorageFuzzRegressionTests {
    /// A block index whose trailing CRC32C is correct for `body`.
    static func index(_ body: [UInt8]) -> [UInt8] {
        var out = Array("TIDX".utf8) + [1, 0, 0, 0] + body
        out.appendFixed(CRC32C.checksum(out))
        return out
    }

    @Test("an LZ4 length beyond what the block can expand to is refused before allocating")
    func lz4Length() {
        let tiny: [UInt8] = [0x10, 0x41]
        #expect(throws: CodecError.self) {
            try tiny.withUnsafeBytes { _ = try LZ4.decompress($0, rawCount: 1 << 30) }
        }
        #expect(throws: CodecError.self) {
            try tiny.withUnsafeBytes { _ = try LZ4.decompress($0, rawCount: -1) }
        }
        // A WAL record announcing 500 MB from three bytes.
        var body: [UInt8] = [WALRecord.typeSamplesLZ4]
        body.appendVarint(500 << 20)
        body += [0x10, 0x41]
        #expect(throws: CodecError.self) { try body.withUnsafeBytes { _ = try WALRecord.decode(body: $0) } }
        // A column frame announcing 1 GiB behind a valid checksum.
        var frame: [UInt8] = [1]
        frame.appendVarint(1 << 30)
        frame.appendVarint(2)
        frame += [0x10, 0x41]
        frame.appendFixed(CRC32C.checksum(frame))
        #expect(throws: CodecError.self) { try frame.withUnsafeBytes { _ = try ColumnFrame.read($0, at: 0) } }
    }

    @Test("a block index with a varint of 2^63 or more is corrupt, not a trap", arguments: [0, 1, 2, 3])
    func hugeIndexVarints(field: Int) {
        let huge: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]
        var payload: [UInt8]
        switch field {
        case 0: payload = huge  // series count
        case 1: payload = [1, 0] + huge  // chunk count
        case 2: payload = [1, 0, 1, 0, 0] + huge  // sample count
        default: payload = [1, 0, 1, 0, 0, 1] + huge  // timestamp column offset
        }
        payload += [UInt8](repeating: 0, count: 48)
        var body: [UInt8] = [0]
        body.appendVarint(UInt64(payload.count))
        body += payload
        #expect(throws: TSDBError.self) { _ = try BlockFormat.decodeIndex(Self.index(body), blockMin: 0, path: "index") }
        // The uncompressed length itself.
        #expect(throws: TSDBError.self) { _ = try BlockFormat.decodeIndex(Self.index([0] + huge), blockMin: 0, path: "index") }
    }

    /// Fuzz/corpus/block/oom-023ea157…: an index announcing 382,812,504 samples in one chunk
    /// behind a valid checksum; decoding that chunk allocated 3 GB before reading its column.
    @Test("a block index announcing more samples in a chunk than a chunk may hold is corrupt")
    func oversizedChunkCount() throws {
        func payload(count: Int) -> [UInt8] {
            var p: [UInt8] = [1, 0, 1, 0, 0]  // one series, id 0, one chunk, minTime, maxTime
            p.appendVarint(UInt64(count))
            p += [0, 0, 0]                    // timestamp and value column offsets, flags
            p += [UInt8](repeating: 0, count: 40)
            var body: [UInt8] = [0]
            body.appendVarint(UInt64(p.count))
            return body + p
        }
        #expect(throws: TSDBError.self) {
            _ = try BlockFormat.decodeIndex(Self.index(payload(count: 382_812_504)), blockMin: 0, path: "index")
        }
        #expect(throws: TSDBError.self) {
            _ = try BlockFormat.decodeIndex(Self.index(payload(count: BlockFormat.maxChunkSamples + 1)), blockMin: 0, path: "index")
        }
        let entries = try BlockFormat.decodeIndex(Self.index(payload(count: BlockFormat.maxChunkSamples)), blockMin: 0, path: "index")
        #expect(entries.first?.chunks.first?.count == BlockFormat.maxChunkSamples)
    }
}
