/// SplitMix64: a tiny seeded generator, so property tests and generated data are
/// reproducible; a failing test prints its seed and replays from it.
///
/// ```swift
/// var rng = SeededGenerator(seed: 0x5EED)
/// let n = Int.random(in: 0..<10, using: &rng)
/// ```
package struct SeededGenerator: RandomNumberGenerator, Sendable {
    package var state: UInt64

    package init(seed: UInt64) { state = seed }

    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension SeededGenerator {
    /// `bytes` after 1 to `maxEdits` random edits, each a byte replaced, removed or inserted
    /// (`byte` draws the new ones); an edit that empties it leaves `[whenEmpty]`. The corruption
    /// the parser tests feed their decoders, one seed replaying one sequence.
    package mutating func corrupt(_ bytes: [UInt8], maxEdits: Int, whenEmpty: UInt8 = 0,
                                  byte: (inout SeededGenerator) -> UInt8 = { UInt8(truncatingIfNeeded: $0.next()) }) -> [UInt8] {
        var body = bytes
        for _ in 0..<(1 + Int(next() % UInt64(maxEdits))) {
            let i = Int(next() % UInt64(body.count))
            switch next() % 3 {
            case 0: body[i] = byte(&self)
            case 1: body.remove(at: i)
            default: body.insert(byte(&self), at: i)
            }
            if body.isEmpty { body = [whenEmpty] }
        }
        return body
    }
}
