import Primitives

/// One label pair of a series, for example `Hostname="mtv5-dgx1-hgpu-031"`.
public struct Label: Hashable, Sendable, Comparable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }

    public static func < (lhs: Label, rhs: Label) -> Bool {
        lhs.name != rhs.name ? lhs.name < rhs.name : lhs.value < rhs.value
    }
}

/// The identity of a series: a metric name (`__name__`) plus a label set, sorted by name, with
/// no empty values and no duplicate names.
///
/// Its ``canonicalBytes`` are stable across processes and versions, and ``stableHash`` is the
/// xxHash64 of them; neither uses Swift's per-process seeded `Hasher`.
///
/// ```swift
/// let labels = Labels(["__name__": "DCGM_FI_DEV_GPU_UTIL", "UUID": "GPU-5fd4…", "gpu": "0"])
/// labels["gpu"]   // "0"
/// ```
public struct Labels: Hashable, Sendable, Sequence, CustomStringConvertible {
    public static let metricName = "__name__"

    /// Sorted by name; names are unique; values are never empty.
    public private(set) var pairs: [Label]

    /// Builds a label set; empty values are dropped, and a later duplicate name wins.
    public init(_ pairs: [Label]) {
        var byName: [String: String] = [:]
        byName.reserveCapacity(pairs.count)
        for pair in pairs { byName[pair.name] = pair.value }
        self.pairs = byName.compactMap { $0.value.isEmpty ? nil : Label($0.key, $0.value) }.sorted()
    }

    public init(_ dictionary: [String: String]) {
        self.init(dictionary.map { Label($0.key, $0.value) })
    }

    /// Trusts the caller that `sortedPairs` is sorted, unique and has no empty value.
    package init(sortedPairs: [Label]) {
        self.pairs = sortedPairs
    }

    public subscript(name: String) -> String? {
        // Label sets are small (about 12 pairs); a linear scan beats hashing here.
        for pair in pairs where pair.name == name { return pair.value }
        return nil
    }

    public var metric: String? { self[Labels.metricName] }

    public var count: Int { pairs.count }

    public func makeIterator() -> IndexingIterator<[Label]> { pairs.makeIterator() }

    public var dictionary: [String: String] {
        Dictionary(uniqueKeysWithValues: pairs.map { ($0.name, $0.value) })
    }

    /// A copy keeping only the named labels (used by group-by).
    public func keeping(_ names: [String]) -> Labels {
        Labels(sortedPairs: pairs.filter { names.contains($0.name) })
    }

    /// `name\u{FF}value\u{FE}` per pair in sorted order: the persisted identity of a series.
    public var canonicalBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(pairs.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 2 })
        for pair in pairs {
            out.append(contentsOf: pair.name.utf8)
            out.append(0xFF)
            out.append(contentsOf: pair.value.utf8)
            out.append(0xFE)
        }
        return out
    }

    /// Parses ``canonicalBytes``; nil when the bytes are not a canonical label set.
    public init?(canonicalBytes bytes: [UInt8]) {
        var pairs: [Label] = []
        var start = 0
        var name: String?
        for (i, b) in bytes.enumerated() {
            if b == 0xFF, name == nil {
                name = String(decoding: bytes[start..<i], as: UTF8.self)
                start = i + 1
            } else if b == 0xFE, let n = name {
                pairs.append(Label(n, String(decoding: bytes[start..<i], as: UTF8.self)))
                name = nil
                start = i + 1
            }
        }
        guard name == nil, start == bytes.count else { return nil }
        self.pairs = pairs
    }

    public var stableHash: UInt64 { XXHash64.hash(canonicalBytes) }

    public var description: String {
        let metric = self.metric ?? ""
        let rest = pairs.filter { $0.name != Labels.metricName }
            .map { "\($0.name)=\"\($0.value)\"" }.joined(separator: ", ")
        return "\(metric){\(rest)}"
    }
}

/// The label names a DCGM CSV row is written with. To *read* a GPU's identity from any
/// series, use ``GPULabelAliases``, which also knows the other writers' spellings.
public enum InventoryLabel {
    public static let uuid = "UUID"
    public static let gpu = "gpu"
    public static let device = "device"
    public static let model = "modelName"
    public static let hostname = "Hostname"
    public static let container = "container"
    public static let pod = "pod"
    public static let namespace = "namespace"
}
