import Primitives

/// WAL records: `u32 bodyLength`, `u32 CRC32C(body)`, body = `u8 type` + payload.
/// Type 1 is a sample batch (`varint n`, n × u32 series id, n × i64 timestamp, n × u64
/// value bits, little-endian); type 2 is the same batch LZ4-compressed (`varint rawLength`
/// + block), written when compression shrinks it.
package enum WALRecord {
    package static let headerSize = 8
    static let typeSamples: UInt8 = 1
    static let typeSamplesLZ4: UInt8 = 2
    /// A record larger than this is corruption, not data.
    static let maxBodySize = 512 << 20

    package static func encode(_ batch: SampleBatch, compress: Bool = true) -> [UInt8] {
        let n = batch.count
        var raw: [UInt8] = []
        raw.reserveCapacity(10 + n * 20)
        raw.appendVarint(UInt64(n))
        batch.refs.withUnsafeBytes { raw.append(contentsOf: $0) }
        batch.timestamps.withUnsafeBytes { raw.append(contentsOf: $0) }
        batch.values.withUnsafeBytes { raw.append(contentsOf: $0) }
        var body: [UInt8] = []
        if compress, raw.count >= 256, let packed = LZ4.compress(raw) {
            body.reserveCapacity(packed.count + 12)
            body.append(typeSamplesLZ4)
            body.appendVarint(UInt64(raw.count))
            body.append(contentsOf: packed)
        } else {
            body.reserveCapacity(raw.count + 1)
            body.append(typeSamples)
            body.append(contentsOf: raw)
        }
        var out: [UInt8] = []
        out.reserveCapacity(body.count + headerSize)
        out.appendFixed(UInt32(body.count))
        out.appendFixed(CRC32C.checksum(body))
        out.append(contentsOf: body)
        return out
    }

    /// Decodes a record body (already checksum-verified) into a batch.
    package static func decode(body: UnsafeRawBufferPointer) throws -> SampleBatch {
        var r = ByteReader(body)
        let type = try r.byte()
        switch type {
        case typeSamples:
            return try decodeSamples(r.slice(r.remaining))
        case typeSamplesLZ4:
            let rawCount = try r.varint()
            guard rawCount < UInt64(maxBodySize) else { throw CodecError.malformed("WAL record of \(rawCount) bytes") }
            let raw = try LZ4.decompress(r.slice(r.remaining), rawCount: Int(rawCount))
            return try raw.withUnsafeBytes { try decodeSamples($0) }
        default:
            throw CodecError.malformed("unknown WAL record type \(type)")
        }
    }

    private static func decodeSamples(_ bytes: UnsafeRawBufferPointer) throws -> SampleBatch {
        var r = ByteReader(bytes)
        let n64 = try r.varint()
        guard n64 <= UInt64(r.remaining / 20) else { throw CodecError.malformed("sample count \(n64) exceeds the record") }
        let n = Int(n64)
        guard r.remaining == n * 20 else { throw CodecError.malformed("sample batch of \(n) has \(r.remaining) bytes") }
        var batch = SampleBatch(capacity: n)
        let refs = try r.slice(n * 4), ts = try r.slice(n * 8), vals = try r.slice(n * 8)
        batch.refs = [UInt32](unsafeUninitializedCapacity: n) { buf, count in
            UnsafeMutableRawBufferPointer(buf).copyMemory(from: refs)
            count = n
        }
        batch.timestamps = [Int64](unsafeUninitializedCapacity: n) { buf, count in
            UnsafeMutableRawBufferPointer(buf).copyMemory(from: ts)
            count = n
        }
        batch.values = [Double](unsafeUninitializedCapacity: n) { buf, count in
            UnsafeMutableRawBufferPointer(buf).copyMemory(from: vals)
            count = n
        }
        return batch
    }
}
