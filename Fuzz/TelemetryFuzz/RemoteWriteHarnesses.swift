import Ingest
import TSDB

/// Prometheus remote_write bodies: the snappy block decoder, then the `WriteRequest` protobuf
/// decoder, both as `POST /api/v1/write` (remote_write) calls them.
enum RemoteWriteHarnesses {
    static let limit = 1 << 16

    /// A snappy block: decompressing never traps and never returns more than the limit or other
    /// than the declared length; what decompresses compresses and decompresses back to itself;
    /// any input compressed decompresses back to itself.
    @Sendable static func snappy(_ data: UnsafeRawBufferPointer) {
        let bytes = [UInt8](data)
        if let out = try? Snappy.decompress(bytes, limit: limit) {
            require(out.count <= limit, "decompressed \(out.count) bytes past the limit of \(limit)")
            require((try? Snappy.declaredLength(bytes)) == out.count, "decompressed \(out.count) bytes, not the declared length")
            require((try? Snappy.decompress(Snappy.compress(out), limit: limit)) == out, "a decompressed block does not round-trip")
        }
        guard bytes.count <= limit else { return }
        let packed = Snappy.compress(bytes)
        switch Result(catching: { () throws(SnappyError) -> [UInt8] in try Snappy.decompress(packed, limit: limit) }) {
        case .success(let back): require(back == bytes, "compress then decompress changed \(bytes.count) bytes")
        case .failure(let error): require(false, "a block from Snappy.compress does not decompress: \(error)")
        }
    }

    /// A `WriteRequest` protobuf (already decompressed): decoding never traps; the batch path
    /// the routes use (``RemoteWriteBatchBuilder``) gives the same samples or error; the columns agree
    /// in length and every sample points at a series; the decoded request written back with
    /// ``RemoteWriteEncoder`` decodes to the same series, timestamps and values (bit for bit).
    @Sendable static func writeRequest(_ data: UnsafeRawBufferPointer) {
        var limits = RemoteWriteLimits()
        limits.maxLabelsPerSeries = 30
        limits.maxLabelNameBytes = 256
        limits.maxLabelValueBytes = 4_096
        let plain = Result { () throws(RemoteWriteError) in try RemoteWrite.decode([UInt8](data), limits: limits) }
        let batched = Result { () throws(RemoteWriteError) in try RemoteWriteBatchBuilder(limits: limits).parse([UInt8](data)) }
        switch (plain, batched) {
        case (.success(let a), .success(let b)):
            require(a.timestamps == b.batch.timestamps && a.values.map(\.bitPattern) == b.batch.values.map(\.bitPattern),
                    "the batch path's samples differ from the decoder's")
            require(a.exemplarsSkipped == b.exemplarsSkipped && a.histogramsSkipped == b.histogramsSkipped && a.seriesCount == b.seriesCount,
                    "the batch path's counts differ from the decoder's")
        case (.failure(let a), .failure(let b)):
            require(a == b, "batch path error \(b) differs from the decoder's \(a)")
        default:
            require(false, "batch path and decoder disagree on failing")
        }
        guard case .success(let request) = plain else { return }
        require(request.seriesOfSample.count == request.timestamps.count && request.values.count == request.timestamps.count,
                "columns of \(request.seriesOfSample.count), \(request.timestamps.count) and \(request.values.count) entries")
        require(request.series.count <= request.seriesCount, "\(request.series.count) series with samples out of \(request.seriesCount)")
        require(request.seriesOfSample.allSatisfy { request.series.indices.contains($0) }, "a sample points past the series")
        var encoder = RemoteWriteEncoder()
        var k = 0
        for (s, labels) in request.series.enumerated() {
            var samples: [(Int64, Double)] = []
            while k < request.timestamps.count, request.seriesOfSample[k] == s {
                samples.append((request.timestamps[k] / 1_000_000, request.values[k]))
                k += 1
            }
            encoder.series(labels.pairs, samples: samples)
        }
        require(k == request.timestamps.count, "samples are not grouped by series in request order")
        switch Result(catching: { () throws(RemoteWriteError) -> RemoteWriteRequest in try RemoteWrite.decode(encoder.bytes, limits: limits) }) {
        case .success(let back):
            require(back.series == request.series, "re-encoded series decode to other label sets")
            require(back.seriesOfSample == request.seriesOfSample && back.timestamps == request.timestamps,
                    "re-encoded samples decode to other series or timestamps")
            require(zip(back.values, request.values).allSatisfy { sameBits($0, $1) }, "re-encoded values change bits")
        case .failure(let error):
            require(false, "a decoded request written back by RemoteWriteEncoder is refused: \(error)")
        }
    }
}
