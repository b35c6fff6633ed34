import Primitives
import Synchronization

/// Series refs by the raw bytes a writer sent for a series (for line protocol: the
/// measurement, tags and field key as written), so a known series costs two hashes and a
/// probe — no `String`, no ``Labels``, no catalog.
///
/// The key bytes are not kept: a key is known by its 64-bit hash (the caller's), its length
/// and a second, independent 64-bit hash under a seed drawn at random for this cache, which
/// together cost 24 bytes a series instead of the key (≈ 200 bytes a DCGM series). Two keys
/// are mixed up only when both hashes and the length agree: for n cached keys the chance that
/// any such pair exists is below n² / 2¹²⁹ (under 10⁻²⁶ at 2,000,000 keys), and the seed is
/// not known outside the process, so a writer cannot construct such a pair offline (and a
/// writer may write to any series it names anyway).
///
/// Bounded: a shard that reaches its share of `maxSeries` starts over empty, and the next
/// write of each of its series resolves it again. A ref can go stale (retention dropped its
/// series): `TSDB.append` then throws `TSDBError.unknownSeries`; the caller calls
/// ``invalidate()`` and resolves again.
package final class LabelBytesCache: Sendable {
    private final class Shard: Sendable {
        let table = Mutex(LabelBytesTable())
    }

    private let shards: [Shard]
    private let maxPerShard: Int
    private let seed: UInt64

    package init(maxSeries: Int = 2_000_000) {
        shards = (0..<16).map { _ in Shard() }
        maxPerShard = max(1, maxSeries / 16)
        seed = UInt64.random(in: .min ... .max)
    }

    /// The ref cached for `key` (whose xxHash64 is `hash`), if any.
    @inline(__always)
    package func lookup(_ hash: UInt64, _ key: UnsafeRawBufferPointer) -> UInt32? {
        let check = Self.check(key, seed: seed)
        return shards[Int(hash & 15)].table.withLock { $0.find(hash, check, key.count) }
    }

    /// The ref cached for the two-part key `a + [0x20] + b` (inserted with `split: a.count`).
    @inline(__always)
    package func lookup(_ hash: UInt64, _ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> UInt32? {
        let check = Self.check(a, b, seed: seed)
        return shards[Int(hash & 15)].table.withLock { $0.find(hash, check, a.count + 1 + b.count) }
    }

    /// Caches `id` for `key`; with `split`, `key` is the two-part key `a + [0x20] + b` with
    /// `a` its first `split` bytes (so ``lookup(_:_:_:)`` finds it).
    package func insert(_ hash: UInt64, _ key: [UInt8], split: Int? = nil, _ id: UInt32) {
        let check = key.withUnsafeBytes { k in
            guard let split, split < k.count else { return Self.check(k, seed: seed) }
            return Self.check(UnsafeRawBufferPointer(rebasing: k[..<split]), UnsafeRawBufferPointer(rebasing: k[(split + 1)...]), seed: seed)
        }
        shards[Int(hash & 15)].table.withLock { t in
            if t.count >= maxPerShard { t = LabelBytesTable() }
            t.insert(hash, check, key.count, id)
        }
    }

    /// Forgets every cached ref.
    package func invalidate() {
        for s in shards { s.table.withLock { $0 = LabelBytesTable() } }
    }

    /// Series cached and bytes held (the slots), for the memory figures.
    package var footprint: (series: Int, bytes: Int) {
        var series = 0, bytes = 0
        for s in shards { s.table.withLock { series += $0.count; bytes += $0.bytes } }
        return (series, bytes)
    }

    @inline(__always)
    static func check(_ key: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        XXHash64.hash(key, seed: seed)
    }

    /// Differs from the one-part check of the same joined bytes, which no cache mixes anyway.
    @inline(__always)
    static func check(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        XXHash64.hash(b, seed: XXHash64.hash(a, seed: seed) ^ 0x20)
    }
}

/// An open-addressing table of (hash, check hash, key length, ref): 24 bytes a slot, one
/// allocation per table, no key bytes.
struct LabelBytesTable {
    private struct Slot {
        var hash: UInt64 = 0
        var check: UInt64 = 0
        var length: UInt32 = 0
        var id: UInt32 = 0  // 0: empty (series ids start at 1)
    }

    private var slots = [Slot](repeating: Slot(), count: 64)
    private(set) var count = 0

    var bytes: Int { slots.capacity * MemoryLayout<Slot>.stride }

    @inline(__always)
    func find(_ hash: UInt64, _ check: UInt64, _ length: Int) -> UInt32? {
        let mask = slots.count - 1
        return slots.withUnsafeBufferPointer { s in
            var i = Int(truncatingIfNeeded: hash) & mask
            while true {
                let slot = s[i]
                if slot.id == 0 { return nil }
                if slot.hash == hash, slot.check == check, Int(slot.length) == length { return slot.id }
                i = (i + 1) & mask
            }
        }
    }

    mutating func insert(_ hash: UInt64, _ check: UInt64, _ length: Int, _ id: UInt32) {
        precondition(id != 0, "series id 0 is never assigned")
        if find(hash, check, length) != nil { return }
        // Up to 3/4 full: linear probing stays short (a hit probes ~2.5 adjacent slots).
        if (count + 1) * 4 > slots.count * 3 { grow() }
        place(Slot(hash: hash, check: check, length: UInt32(truncatingIfNeeded: length), id: id), in: &slots)
        count += 1
    }

    private mutating func grow() {
        var bigger = [Slot](repeating: Slot(), count: slots.count * 2)
        for s in slots where s.id != 0 { place(s, in: &bigger) }
        slots = bigger
    }

    private func place(_ slot: Slot, in table: inout [Slot]) {
        let mask = table.count - 1
        var i = Int(truncatingIfNeeded: slot.hash) & mask
        while table[i].id != 0 { i = (i + 1) & mask }
        table[i] = slot
    }
}
