import Foundation

/// Series refs by the raw bytes of a row's label columns, bucketed by their xxHash64 (the key
/// is compared too, so a hash collision cannot mix series up).
struct SeriesKeyCache {
    private var buckets: [UInt64: [(key: [UInt8], id: UInt32)]] = [:]
    private(set) var count = 0

    func bucket(_ hash: UInt64) -> [(key: [UInt8], id: UInt32)]? { buckets[hash] }

    func lookup(_ hash: UInt64, _ key: [UInt8]) -> UInt32? {
        guard let bucket = buckets[hash] else { return nil }
        for entry in bucket where Self.same(entry.key, key) { return entry.id }
        return nil
    }

    private static func same(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return a.withUnsafeBytes { pa in
            b.withUnsafeBytes { pb in
                guard let x = pa.baseAddress, let y = pb.baseAddress else { return pa.count == 0 }
                return memcmp(x, y, pa.count) == 0
            }
        }
    }

    mutating func insert(_ hash: UInt64, _ key: [UInt8], _ id: UInt32) {
        if lookup(hash, key) != nil { return }
        buckets[hash, default: []].append((key, id))
        count += 1
    }
}
