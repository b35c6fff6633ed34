/// The head keeps a series' older in-order samples encoded, as blocks do, instead of as 16
/// raw bytes each: every ``HeadColumn/packSamples`` samples of the main run become one frame
/// of `packed` — `varint tsBytes`, the ``TimestampCodec`` column, `varint valueBytes`, the
/// ``ValueCodec`` column (lossless, as in a block). On DCGM data that is about 2–3 bytes a
/// sample, and the raw tail a series holds is at most `packSamples` long, which bounds the
/// head's memory per series at fleet scale.
///
/// Out-of-order writes that reach back into the packed part unpack it first, so every merge
/// and duplicate check works on raw runs as before; readers get raw arrays from
/// ``HeadColumn/flattened()``.
extension HeadColumn {
    /// Samples per packed frame: small enough that the raw tail stays small at 200,000
    /// series, large enough that a frame's header and codec choice are amortised.
    static let packSamples = 32

    /// Moves the main run into a new packed frame (the caller checked `runs.isEmpty`).
    mutating func pack() {
        guard !timestamps.isEmpty else { return }
        var ts: [UInt8] = []
        var vs: [UInt8] = []
        timestamps.withUnsafeBufferPointer { TimestampCodec.encode($0, into: &ts) }
        values.withUnsafeBufferPointer { Self.encodeValues($0, into: &vs) }
        packed.reserveCapacity(packed.count + ts.count + vs.count + 4)
        packed.appendVarint(UInt64(ts.count))
        packed.append(contentsOf: ts)
        packed.appendVarint(UInt64(vs.count))
        packed.append(contentsOf: vs)
        packedCount += timestamps.count
        packedMax = timestamps[timestamps.count - 1]
        timestamps.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
    }

    /// A ``ValueCodec`` column, constant or XOR only: the decimal search that makes block
    /// chunks smallest costs ~90 ns a value, too much on every write; the block sealed from
    /// the head still gets it.
    static func encodeValues(_ values: UnsafeBufferPointer<Double>, into out: inout [UInt8]) {
        out.appendVarint(UInt64(values.count))
        guard let first = values.first else { return }
        if values.allSatisfy({ $0.bitPattern == first.bitPattern }) {
            out.append(ValueCodec.Kind.constant.rawValue)
            out.appendFixed(first.bitPattern)
            return
        }
        out.append(ValueCodec.Kind.xor.rawValue)
        ValueCodec.encodeXOR(values, into: &out)
    }

    /// The packed samples followed by the main run, raw.
    func unpackedMain() -> HeadRun {
        let total = packedCount + timestamps.count
        var ts = [Int64](repeating: 0, count: total)
        var vs = [Double](repeating: 0, count: total)
        var at = 0
        packed.withUnsafeBytes { raw in
            var r = ByteReader(raw)
            ts.withUnsafeMutableBufferPointer { ot in
                vs.withUnsafeMutableBufferPointer { ov in
                    while r.remaining > 0, at < packedCount {
                        // Our own bytes, written by pack(): a failure here is a bug, not input.
                        do {
                            let tsBytes = try r.slice(try r.length("head timestamps"))
                            let n = try TimestampCodec.decode(tsBytes, into: UnsafeMutableBufferPointer(rebasing: ot[at...]))
                            let vsBytes = try r.slice(try r.length("head values"))
                            let m = try ValueCodec.decode(vsBytes, into: UnsafeMutableBufferPointer(rebasing: ov[at...]))
                            precondition(n == m, "head frame holds \(n) timestamps and \(m) values")
                            at += n
                        } catch {
                            preconditionFailure("head frame does not decode: \(error)")
                        }
                    }
                }
            }
        }
        precondition(at == packedCount, "head frames hold \(at) samples, expected \(packedCount)")
        for i in 0..<timestamps.count {
            ts[at + i] = timestamps[i]
            vs[at + i] = values[i]
        }
        return HeadRun(timestamps: ts, values: vs)
    }

    /// Turns the packed part back into the raw main run (before an out-of-order merge into it).
    mutating func unpack() {
        guard !packed.isEmpty else { return }
        let main = unpackedMain()
        timestamps = main.timestamps
        values = main.values
        packed = []
        packedCount = 0
        packedMax = .min
    }

    /// Bytes this column holds (array capacities), for the memory figures.
    var footprint: Int {
        packed.capacity + (timestamps.capacity + values.capacity) * 8
            + runs.reduce(0) { $0 + ($1.timestamps.capacity + $1.values.capacity) * 8 }
    }
}
