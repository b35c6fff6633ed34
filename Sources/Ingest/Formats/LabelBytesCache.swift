import Foundation
import Synchronization

/// Series refs by the raw bytes a writer sent for a series (for line protocol: the
/// measurement, tags and field key as written), so a known series costs a hash, a probe and
/// a `memcmp` — no `String`, no ``Labels``, no catalog.
///
/// Bounded: a shard that reaches its share of `maxSeries` (or of `maxKeyBytes`) starts over
/// empty, and the next write of each of its series resolves it again. The key is compared,
/// not only its hash, so a collision cannot mix series up. A ref can go stale (retention
/// dropped its series): `TSDB.append` then throws `TSDBError.unknownSeries`; the caller
/// calls ``invalidate()`` and resolves again.
package final class LabelBytesCache: Sendable {
    private final class Shard: Sendable {
        let table = Mutex(LabelBytesTable())
    }

    private let shards: [Shard]
    private let maxPerShard: Int
    private let maxBytesPerShard: Int

    package init(maxSeries: Int = 2_000_000, maxKeyBytes: Int = 512 << 20) {
        shards = (0..<16).map { _ in Shard() }
        maxPerShard = max(1, maxSeries / 16)
        maxBytesPerShard = max(1, maxKeyBytes / 16)
    }

    /// The ref cached for `key` (whose xxHash64 is `hash`), if any.
    @inline(__always)
    package func lookup(_ hash: UInt64, _ key: UnsafeRawBufferPointer) -> UInt32? {
        shards[Int(hash & 15)].table.withLock { $0.find(hash, key) }
    }

    /// The ref cached for the two-part key `a + [0x20] + b`, compared in place.
    @inline(__always)
    package func lookup(_ hash: UInt64, _ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> UInt32? {
        shards[Int(hash & 15)].table.withLock { $0.find(hash, a, b) }
    }

    package func insert(_ hash: UInt64, _ key: [UInt8], _ id: UInt32) {
        shards[Int(hash & 15)].table.withLock { t in
            if t.count >= maxPerShard || t.arenaBytes + key.count > maxBytesPerShard { t = LabelBytesTable() }
            key.withUnsafeBytes { t.insert(hash, $0, id) }
        }
    }

    /// Forgets every cached ref.
    package func invalidate() {
        for s in shards { s.table.withLock { $0 = LabelBytesTable() } }
    }

    /// Series cached and bytes held (slots and key arena), for the memory figures.
    package var footprint: (series: Int, bytes: Int) {
        var series = 0, bytes = 0
        for s in shards { s.table.withLock { series += $0.count; bytes += $0.bytes } }
        return (series, bytes)
    }
}

/// An open-addressing table of (hash, key position, ref) with the keys in one byte arena:
/// about 24 bytes a series plus its key, and two allocations per table, not two per series.
struct LabelBytesTable {
    private struct Slot {
        var hash: UInt64 = 0
        var offset: UInt32 = 0
        var length: UInt32 = 0
        var id: UInt32 = 0  // 0: empty (series ids start at 1)
    }

    private var slots = [Slot](repeating: Slot(), count: 64)
    private var arena: [UInt8] = []
    private(set) var count = 0

    var arenaBytes: Int { arena.count }
    var bytes: Int { slots.capacity * MemoryLayout<Slot>.stride + arena.capacity }

    @inline(__always)
    func find(_ hash: UInt64, _ key: UnsafeRawBufferPointer) -> UInt32? {
        find(hash, key, UnsafeRawBufferPointer(start: nil, count: 0), joined: false)
    }

    @inline(__always)
    func find(_ hash: UInt64, _ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> UInt32? {
        find(hash, a, b, joined: true)
    }

    private func find(_ hash: UInt64, _ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer, joined: Bool) -> UInt32? {
        let length = a.count + (joined ? 1 + b.count : 0)
        let mask = slots.count - 1
        return slots.withUnsafeBufferPointer { s in
            arena.withUnsafeBytes { ar in
                var i = Int(truncatingIfNeeded: hash) & mask
                while true {
                    let slot = s[i]
                    if slot.id == 0 { return nil }
                    if slot.hash == hash, Int(slot.length) == length, let base = ar.baseAddress {
                        let k = base + Int(slot.offset)
                        if Self.same(k, a) {
                            if !joined { return slot.id }
                            if k.load(fromByteOffset: a.count, as: UInt8.self) == 0x20, Self.same(k + a.count + 1, b) { return slot.id }
                        }
                    }
                    i = (i + 1) & mask
                }
            }
        }
    }

    @inline(__always)
    private static func same(_ p: UnsafeRawPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard let q = b.baseAddress else { return true }
        return memcmp(p, q, b.count) == 0
    }

    mutating func insert(_ hash: UInt64, _ key: UnsafeRawBufferPointer, _ id: UInt32) {
        precondition(id != 0, "series id 0 is never assigned")
        if find(hash, key) != nil { return }
        if (count + 1) * 2 > slots.count { grow() }
        let offset = UInt32(truncatingIfNeeded: arena.count)
        arena.append(contentsOf: key)
        place(Slot(hash: hash, offset: offset, length: UInt32(key.count), id: id), in: &slots)
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
