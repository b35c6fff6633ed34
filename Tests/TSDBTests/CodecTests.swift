import Testing
@testable import TSDB
import TelemetryTestSupport

@Suite("Codecs")
struct CodecTests {
    static let seeds: [UInt64] = [1, 42, 7777, 0xDEADBEEF, 20250718]

    static func timestampCases(seed: UInt64) -> [[Int64]] {
        var g = SeededGenerator(seed: seed)
        let base = Int64(1_752_871_354) * 1_000_000_000
        var regular: [Int64] = [], jitter: [Int64] = [], random: [Int64] = [], unsorted: [Int64] = []
        for i in 0..<1000 {
            regular.append(base + Int64(i) * 1_000_000_000)
            jitter.append(base + Int64(i) * 1_000_000_000 + Int64.random(in: -2...2, using: &g) * 1_000_000)
            random.append(Int64(bitPattern: g.next()))
            unsorted.append(base + Int64.random(in: -1_000_000...1_000_000, using: &g))
        }
        return [[], [base], [base, base + 1], regular, jitter, random, unsorted,
                [Int64.min, Int64.max, 0, -1, Int64.min, Int64.max], [0, 0, 0, 0], [5, 4, 3, 2, 1]]
    }

    @Test("timestamps round-trip exactly", arguments: seeds)
    func timestampRoundTrip(seed: UInt64) throws {
        for (k, ts) in Self.timestampCases(seed: seed).enumerated() {
            let enc = TimestampCodec.encode(ts)
            let dec = try TimestampCodec.decode(enc)
            #expect(dec == ts, "seed \(seed) case \(k)")
        }
    }

    @Test("regular and millisecond-jittered timestamps are compact")
    func timestampSize() {
        let regular = TimestampCodec.encode((0..<1024).map { Int64(1_752_871_354_000_000_000) + Int64($0) * 1_000_000_000 })
        #expect(regular.count < 20)
        var g = SeededGenerator(seed: 3)
        let jitter = TimestampCodec.encode((0..<1024).map { Int64(1_752_871_354_000_000_000) + Int64($0) * 1_000_000_000 + Int64.random(in: -2...2, using: &g) * 1_000_000 })
        // ±2 ms jitter: delta-of-delta within ±4 ms → 4 bits a sample after the unit scaling.
        #expect(jitter.count < 1024 * 4 / 8 + 40)
    }

    static func valueCases(seed: UInt64) -> [[Double]] {
        var g = SeededGenerator(seed: seed)
        var decimals: [Double] = [], ints: [Double] = [], bits: [Double] = [], smooth: [Double] = []
        var plateaus: [Double] = []
        var level = 66725.0
        var power = 350.0
        for _ in 0..<1000 {
            if Int.random(in: 0..<50, using: &g) == 0 { level += Double(Int.random(in: -2000...2000, using: &g)) }
            plateaus.append(level)
            decimals.append(Double(Int.random(in: -99_999...99_999, using: &g)) / 1000)
            ints.append(Double(Int.random(in: 0...100, using: &g)))
            bits.append(Double(bitPattern: g.next()))
            power += Double(Int.random(in: -500...500, using: &g)) / 1000
            smooth.append((power * 1000).rounded() / 1000)
        }
        let nanPayload = Double(bitPattern: 0x7FF8_0000_DEAD_BEEF)
        let signalingNaN = Double(bitPattern: 0x7FF0_0000_0000_0001)
        let adversarial: [Double] = [0, -0.0, .infinity, -.infinity, .nan, nanPayload, signalingNaN,
                                     .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .leastNormalMagnitude,
                                     .greatestFiniteMagnitude, -.greatestFiniteMagnitude, 0.1, 1e-300, 1e300,
                                     9_007_199_254_740_993, 0.30000000000000004, 123456789.123456789]
        return [[], [42], [1.5, 1.5, 1.5], decimals, ints, bits, smooth, adversarial, adversarial.reversed(),
                [-0.0, -0.0], [0.0, -0.0, 0.0], [nanPayload, nanPayload], [1, 2, 3, .nan], plateaus]
    }

    @Test("values round-trip bit for bit", arguments: seeds)
    func valueRoundTrip(seed: UInt64) throws {
        for (k, vs) in Self.valueCases(seed: seed).enumerated() {
            let enc = ValueCodec.encode(vs)
            let dec = try ValueCodec.decode(enc)
            #expect(dec.map(\.bitPattern) == vs.map(\.bitPattern), "seed \(seed) case \(k)")
        }
    }

    @Test("decoding only the needed values gives those values bit for bit", arguments: seeds)
    func valueRangeDecode(seed: UInt64) throws {
        var g = SeededGenerator(seed: seed)
        var cases = Self.valueCases(seed: seed)
        // Long columns of each scaled order and bit-packed form: frame of reference (noisy
        // integers), first differences (a random walk), second (a counter), plateaus (sparse).
        var walk = 500.0, counter = 0.0, rate = 3.0
        var noisy: [Double] = [], walks: [Double] = [], counters: [Double] = [], flat: [Double] = []
        for i in 0..<4096 {
            noisy.append(Double(Int.random(in: 0...100, using: &g)))
            walk += Double(Int.random(in: -3...3, using: &g)) / 10
            walks.append((walk * 10).rounded() / 10)
            rate += Double(Int.random(in: -1...1, using: &g))
            counter += rate
            counters.append(counter)
            flat.append(i % 700 < 350 ? 7 : Double(i / 700))
        }
        cases += [noisy, walks, counters, flat]
        for (k, vs) in cases.enumerated() where !vs.isEmpty {
            let enc = ValueCodec.encode(vs)
            var ranges = [0..<vs.count, 0..<0, (vs.count - 1)..<vs.count, 0..<1]
            for _ in 0..<20 {
                let a = Int.random(in: 0..<vs.count, using: &g)
                ranges.append(a..<Int.random(in: a...vs.count, using: &g))
            }
            for r in ranges {
                var out = [Double](repeating: -1, count: vs.count)
                let n = try enc.withUnsafeBytes { raw in try out.withUnsafeMutableBufferPointer { try ValueCodec.decode(raw, into: $0, needed: r) } }
                #expect(n == vs.count)
                #expect(out[r].map(\.bitPattern) == vs[r].map(\.bitPattern), "seed \(seed) case \(k) range \(r)")
            }
        }
    }

    @Test("the decimal path is chosen for decimal data, XOR otherwise")
    func valueKinds() throws {
        let cases = Self.valueCases(seed: 1)
        func kind(_ v: [Double]) throws -> ValueCodec.Kind? { try ValueCodec.encode(v).withUnsafeBytes { try ValueCodec.kind($0) } }
        #expect(try kind(cases[2]) == .constant)
        #expect(try kind(cases[3]) == .scaled)
        #expect(try kind(cases[4]) == .scaled)
        #expect(try kind(cases[5]) == .xor)
        #expect(try kind(cases[6]) == .scaled)
        #expect(try kind([1, -0.0]) == .xor)
        // Integer gauges in 0...100 need 7-8 bits a sample, far below XOR's.
        #expect(ValueCodec.encode(cases[4]).count < 1000)
        // Plateaus (a gauge that rarely moves) cost about a bit a sample: sparse groups.
        #expect(ValueCodec.encode(cases[13]).count < 1000 / 8 + 100)
    }

    @Test("damaged columns throw, never trap", arguments: seeds)
    func damagedColumns(seed: UInt64) {
        var g = SeededGenerator(seed: seed)
        for vs in Self.valueCases(seed: seed) where vs.count > 2 {
            let enc = ValueCodec.encode(vs)
            for _ in 0..<50 {
                var bad = enc
                let cut = Int.random(in: 0..<bad.count, using: &g)
                if Bool.random(using: &g) { bad.removeSubrange(cut...) } else { bad[cut] ^= UInt8.random(in: 1...255, using: &g) }
                _ = try? ValueCodec.decode(bad)  // must return or throw
            }
        }
        for ts in Self.timestampCases(seed: seed) where ts.count > 2 {
            let enc = TimestampCodec.encode(ts)
            for _ in 0..<50 {
                var bad = enc
                bad.removeSubrange(Int.random(in: 0..<bad.count, using: &g)...)
                _ = try? TimestampCodec.decode(bad)
            }
        }
    }

    @Test("column frames verify checksums and use LZ4 only when it helps")
    func columnFrames() throws {
        let repetitive = [UInt8](repeating: 7, count: 4096)
        var out: [UInt8] = []
        ColumnFrame.append(repetitive, to: &out)
        #expect(out.count < 200)
        var scratch: [UInt8] = []
        let view = try out.withUnsafeBytes { try ColumnFrame.read($0, at: 0) }
        #expect(view.compressed)
        var damaged = out
        damaged[damaged.count / 2] ^= 0xFF
        #expect(throws: CodecError.self) { try damaged.withUnsafeBytes { try ColumnFrame.read($0, at: 0) } }
        let back = try out.withUnsafeBytes { raw in
            let v = try ColumnFrame.read(raw, at: 0)
            return try ColumnFrame.withColumn(v, scratch: &scratch) { Array($0) }
        }
        #expect(back == repetitive)
    }

    @Test("group packing round-trips dense, sparse and Rice groups, escapes included", arguments: seeds)
    func groupPacking(seed: UInt64) throws {
        var g = SeededGenerator(seed: seed)
        var firstMode: UInt8 = 0
        func roundTrip(_ v: [UInt64], riceWhereverSmaller: Bool = false) throws -> Int {
            var out: [UInt8] = []
            v.withUnsafeBufferPointer { BitPacking.pack($0, into: &out, riceWhereverSmaller: riceWhereverSmaller) }
            #expect(out.count == v.withUnsafeBufferPointer { BitPacking.packedSize($0, riceWhereverSmaller: riceWhereverSmaller) })
            var back = [UInt64](repeating: 7, count: v.count)
            let used = try out.withUnsafeBytes { raw in try back.withUnsafeMutableBufferPointer { try BitPacking.unpack(raw, count: v.count, into: $0.baseAddress!) } }
            #expect(used == out.count)
            #expect(back == v, "seed \(seed)")
            firstMode = out.first ?? 0
            return out.count
        }
        // Geometric-like magnitudes with rare huge outliers.
        let noisy = (0..<1000).map { i -> UInt64 in
            i % 97 == 0 ? UInt64.random(in: 0...(1 << 40), using: &g) : UInt64.random(in: 0...UInt64.random(in: 1...4000, using: &g), using: &g)
        }
        let riceSize = try roundTrip(noisy, riceWhereverSmaller: true)
        #expect(riceSize < 1000 * 41 / 8)   // far below the widest value's width
        #expect(firstMode & BitPacking.riceFlag == BitPacking.riceFlag, "seed \(seed): the first group is not Rice")
        #expect(try roundTrip(noisy) >= riceSize)
        // Small values with a few 20-bit spikes: Rice with escapes is a third below the
        // spikes' fixed width, so Rice is chosen (it must be, where it saves a quarter).
        _ = try roundTrip((0..<1000).map { i -> UInt64 in
            i % 43 == 0 ? UInt64.random(in: (1 << 19)..<(1 << 20), using: &g) : UInt64.random(in: 0..<64, using: &g)
        })
        #expect(firstMode & BitPacking.riceFlag == BitPacking.riceFlag, "seed \(seed): the first group is not Rice")
        // Uniform noise of one width: Rice saves nothing near a quarter, so the group stays
        // fixed-width (it decodes several times faster).
        _ = try roundTrip((0..<1000).map { _ in UInt64.random(in: 0..<(1 << 12), using: &g) })
        #expect(firstMode & BitPacking.riceFlag != BitPacking.riceFlag, "seed \(seed): uniform noise packed as Rice")
        _ = try roundTrip((0..<1000).map { _ in UInt64.random(in: 0...1, using: &g) == 0 ? 0 : g.next() })
        _ = try roundTrip((0..<1000).map { $0 % 50 == 0 ? UInt64($0) : 0 })
        _ = try roundTrip((0..<300).map { _ in g.next() })
        _ = try roundTrip([])
        _ = try roundTrip([UInt64.max, 0, UInt64.max])
    }

    @Test("Rice groups of every magnitude decode the same with and without bytes after them", arguments: seeds)
    func riceMagnitudes(seed: UInt64) throws {
        var g = SeededGenerator(seed: seed)
        for magnitude: UInt64 in [1, 3, 10, 100, 10_000, 1_000_000, 1 << 30, 1 << 40, 1 << 62] {
            // Mostly small around the magnitude, with outliers that take the escape path.
            let v = (0..<640).map { i -> UInt64 in
                i % 53 == 0 ? g.next() >> UInt64.random(in: 0...40, using: &g) : UInt64.random(in: 0...magnitude, using: &g)
            }
            // Packed as columns written before the quarter rule were (Rice wherever smaller),
            // so the Rice decoder and its escapes meet every magnitude.
            var packed: [UInt8] = []
            v.withUnsafeBufferPointer { BitPacking.pack($0, into: &packed, riceWhereverSmaller: true) }
            // Decoding in place reads ahead into whatever follows the column; set bits there
            // must not leak into the values.
            for trailer in [[UInt8](), [UInt8](repeating: 0xFF, count: 40), [UInt8](repeating: 0, count: 40)] {
                let bytes = packed + trailer
                var back = [UInt64](repeating: 7, count: v.count)
                let used = try bytes.withUnsafeBytes { raw in
                    try back.withUnsafeMutableBufferPointer { try BitPacking.unpack(raw, count: v.count, into: $0.baseAddress!) }
                }
                #expect(used == packed.count)
                #expect(back == v, "seed \(seed) magnitude \(magnitude) trailer \(trailer.count)")
            }
        }
    }

    @Test("bit writer and reader agree on arbitrary widths", arguments: seeds)
    func bits(seed: UInt64) throws {
        var g = SeededGenerator(seed: seed)
        var w = BitWriter()
        var expected: [(UInt64, Int)] = []
        for _ in 0..<5000 {
            let width = Int.random(in: 1...64, using: &g)
            let v = width == 64 ? g.next() : g.next() & ((1 << UInt64(width)) - 1)
            w.write(v, bits: width)
            expected.append((v, width))
        }
        let bytes = w.finish()
        try bytes.withUnsafeBytes { raw in
            var r = BitReader(raw)
            for (v, width) in expected {
                let got = try r.read(bits: width)
                #expect(got == v)
            }
        }
    }
}
