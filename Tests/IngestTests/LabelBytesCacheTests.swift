import Testing
@testable import Ingest

/// The label-bytes cache keeps no key bytes (a hash, a length and a second seeded hash a
/// series): keys that share the caller's hash, or differ only in where a two-part key splits,
/// stay apart; a two-part key inserted joined is found by its parts.
@Suite("Label-bytes cache")
struct LabelBytesCacheTests {
    @Test func keysSharingTheCallersHashStayApart() {
        let cache = LabelBytesCache()
        let a = Array("m,host=a".utf8), b = Array("m,host=b".utf8)
        cache.insert(7, a, 1)
        cache.insert(7, b, 2)
        #expect(a.withUnsafeBytes { cache.lookup(7, $0) } == 1)
        #expect(b.withUnsafeBytes { cache.lookup(7, $0) } == 2)
        let c = Array("m,host=c".utf8)
        #expect(c.withUnsafeBytes { cache.lookup(7, $0) } == nil)
        #expect(Array("m,host=aa".utf8).withUnsafeBytes { cache.lookup(7, $0) } == nil)
        #expect(cache.footprint.series == 2)
    }

    @Test func twoPartKeysAreFoundByTheirParts() {
        let cache = LabelBytesCache()
        let series = Array(#"cpu\ load,host=a"#.utf8), field = Array("value".utf8)
        cache.insert(9, series + [0x20] + field, split: series.count, 3)
        let hit = series.withUnsafeBytes { s in field.withUnsafeBytes { f in cache.lookup(9, s, f) } }
        #expect(hit == 3)
        // The same joined bytes split at the other space are another key.
        let s2 = Array(#"cpu\"#.utf8), f2 = Array("load,host=a value".utf8)
        #expect(s2 + [0x20] + f2 == series + [0x20] + field)
        let miss = s2.withUnsafeBytes { s in f2.withUnsafeBytes { f in cache.lookup(9, s, f) } }
        #expect(miss == nil)
        let other = Array("temp".utf8)
        #expect(series.withUnsafeBytes { s in other.withUnsafeBytes { f in cache.lookup(9, s, f) } } == nil)
    }

    @Test func aFullShardStartsOverAndInvalidateForgets() {
        let cache = LabelBytesCache(maxSeries: 16)  // one key a shard
        let keys = (0..<4).map { Array("k\($0)".utf8) }
        for (i, k) in keys.enumerated() { cache.insert(0x10 * UInt64(i), k, UInt32(i + 1)) }  // all in shard 0
        #expect(cache.footprint.series == 1)
        #expect(keys[3].withUnsafeBytes { cache.lookup(0x30, $0) } == 4)
        #expect(keys[0].withUnsafeBytes { cache.lookup(0, $0) } == nil)
        cache.invalidate()
        #expect(cache.footprint.series == 0)
        #expect(keys[3].withUnsafeBytes { cache.lookup(0x30, $0) } == nil)
    }
}
