/// The `fields` parameter of a list endpoint: which keys of each item the page carries
/// (comma-separated or repeated, e.g. `fields=uuid` or `fields=hostname,gpu_count`). Without
/// it every key is written. A client that only needs the names of 16,000 GPUs gets
/// `{"uuid":…}` objects, about a seventh of the full records' bytes, and the engine skips the
/// work of the keys left out (first/last seen are read per GPU from the series bounds).
///
/// ```swift
/// let fields = try FieldSelection(q, names: ["hostname", "gpu_count", "series_count"])
/// if fields.has(0) { w.key("hostname"); w.string(h.hostname) }
/// ```
struct FieldSelection: Sendable {
    private let mask: UInt64

    /// Every key of an item whose keys are `names` (in the order they are written).
    static func all(_ names: [String]) -> FieldSelection { FieldSelection(mask: names.count >= 64 ? ~0 : (1 << UInt64(names.count)) - 1) }

    private init(mask: UInt64) { self.mask = mask }

    /// Reads `fields` from the request; an unknown key is a 400 that lists the known ones,
    /// an empty selection (`fields=`) means every key.
    init(_ q: QueryParameters, names: [String]) throws(APIError) {
        precondition(names.count <= 64, "a field selection holds at most 64 keys")
        let asked = q.all("fields", split: true)
        guard !asked.isEmpty else { self = .all(names); return }
        var mask: UInt64 = 0
        for name in asked {
            guard let i = names.firstIndex(of: name) else {
                throw .badRequest("unknown field \"\(name)\" in fields; this list's items have: \(names.joined(separator: ", "))")
            }
            mask |= 1 << UInt64(i)
        }
        self.mask = mask
    }

    /// Whether the key at position `i` of the item's names is written.
    @inline(__always) func has(_ i: Int) -> Bool { mask & (1 << UInt64(i)) != 0 }

    /// Whether the key at position `i` is the only one written.
    func isOnly(_ i: Int) -> Bool { mask == 1 << UInt64(i) }
}
