/// Moving a column's older samples into its compressed ``HeadStream`` and back.
///
/// In-order appends keep between ``rawTail`` and 2×``rawTail`` samples raw: when the main
/// run reaches 2×``rawTail`` the runs pending (out-of-order samples newer than the stream)
/// are merged into it and all but its newest ``rawTail`` samples go into the stream, so a
/// column's raw arrays never grow past 2×``rawTail`` elements. The raw tail absorbs the
/// usual disorder of concurrent writers (a batch applied after a newer one). A write older
/// than the stream's newest sample decodes the stream back into the main run (``unpack``)
/// and doubles the column's raw tail, so a column adapts to the disorder it sees; after
/// ``maxUnpacks`` of those it stays raw until it is sealed, so no write pattern pays for
/// more than a few decodes of a column.
extension HeadColumn {
    /// Raw samples kept behind the stream before any disorder was seen: small, because at
    /// 200,000 series every raw sample kept costs 3 MB (and the two raw arrays of an
    /// in-order column then fit 8 samples each: 2 × 96 bytes of heap). Columns that see
    /// disorder widen it (below), up to 4 << 5 = 128 samples.
    static let minRawTail = 4
    static let maxUnpacks: UInt8 = 5

    /// Raw samples this column keeps behind its stream.
    var rawTail: Int { Self.minRawTail << Int(unpacks) }

    /// Merges the pending runs into the main run and moves its older samples into the stream.
    mutating func compress() {
        if !runs.isEmpty {
            let flat = flattenedRaw()
            timestamps = flat.timestamps
            values = flat.values
            runs = []
        }
        let move = timestamps.count - rawTail
        guard move > 0 else { return }
        for i in 0..<move { stream.append(timestamps[i], values[i]) }
        if timestamps.capacity > 4 * rawTail {
            // Arrays widened by an unpack or a merge: keep the tail in arrays of its own size.
            var ts: [Int64] = [], vs: [Double] = []
            ts.reserveCapacity(2 * rawTail)
            vs.reserveCapacity(2 * rawTail)
            ts.append(contentsOf: timestamps[move...])
            vs.append(contentsOf: values[move...])
            timestamps = ts
            values = vs
        } else {
            timestamps.removeSubrange(0..<move)
            values.removeSubrange(0..<move)
        }
    }

    /// Decodes the stream in front of the main run (before an out-of-order merge into it).
    mutating func unpack(work: inout Int) {
        guard stream.count > 0 else { return }
        var ts: [Int64] = [], vs: [Double] = []
        ts.reserveCapacity(stream.count + timestamps.count)
        vs.reserveCapacity(stream.count + timestamps.count)
        stream.decode(into: &ts, &vs)
        ts.append(contentsOf: timestamps)
        vs.append(contentsOf: values)
        work += ts.count
        timestamps = ts
        values = vs
        stream = HeadStream()
        unpacks &+= 1
    }

    /// The raw part (main run and runs) as one sorted, unique run; the stream is not included.
    func flattenedRaw() -> HeadRun {
        guard var acc = runs.last else { return HeadRun(timestamps: timestamps, values: values) }
        for i in stride(from: runs.count - 2, through: 0, by: -1) {
            acc = HeadColumn.merge(older: runs[i], newer: acc)
        }
        return HeadColumn.merge(older: HeadRun(timestamps: timestamps, values: values), newer: acc)
    }

    /// Stream, main run and runs as one sorted, unique, raw column (for readers and the seal).
    func unpackedCopy() -> HeadColumn {
        let raw = flattenedRaw()
        var ts: [Int64] = [], vs: [Double] = []
        ts.reserveCapacity(stream.count + raw.count)
        vs.reserveCapacity(stream.count + raw.count)
        stream.decode(into: &ts, &vs)
        ts.append(contentsOf: raw.timestamps)
        vs.append(contentsOf: raw.values)
        return HeadColumn(timestamps: ts, values: vs)
    }

    /// Bytes this column holds (array capacities and the stream), for the memory figures.
    var footprint: Int {
        stream.footprint + (timestamps.capacity + values.capacity) * 8
            + runs.reduce(0) { $0 + ($1.timestamps.capacity + $1.values.capacity) * 8 }
    }
}
