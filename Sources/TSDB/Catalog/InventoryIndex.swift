/// The GPU, host and namespace inventory derived from the series index, each list sorted by
/// its key, so a page is a binary search for the cursor and a slice — never a sort or a scan
/// from the first item. The index only ever grows, so an inventory built at one series count
/// stays exact until the count changes; ``TSDB`` rebuilds it then, once, not per request.
/// First and last seen move with every write and are read per page from the engine state.
struct InventoryIndex: Sendable {
    /// The ``SeriesIndex/count`` this was built from.
    let seriesCount: Int
    /// GPUs by UUID, each with its series ids (ascending) and everything but first/last seen.
    let gpus: [(info: GPUInfo, ids: [UInt32])]
    /// The UUIDs of ``gpus``, in the same order: a names-only page is a slice of these, not
    /// a copy of each record (reading a field of a tuple element copies the whole tuple).
    let uuids: [String]
    let gpuByUUID: [String: Int]
    /// Positions in ``gpus`` of each host's GPUs, ascending (so in UUID order).
    let gpusByHost: [String: [Int]]
    let hosts: [HostInfo]
    let namespaces: [NamespaceInfo]

    init(_ s: TSDB.State) {
        seriesCount = s.index.count
        let byUUID = Self.aliasPostings(GPULabelAliases.uuid, s)
        var gpus: [(info: GPUInfo, ids: [UInt32])] = []
        gpus.reserveCapacity(byUUID.count)
        for (uuid, ids) in byUUID.sorted(by: { $0.key < $1.key }) {
            gpus.append((Self.gpuInfo(uuid: uuid, ids: ids, s), ids))
        }
        var byUUIDIndex: [String: Int] = [:]
        var byHost: [String: [Int]] = [:]
        for (i, g) in gpus.enumerated() {
            byUUIDIndex[g.info.uuid] = i
            if let h = g.info.hostname { byHost[h, default: []].append(i) }
        }
        self.gpus = gpus
        uuids = gpus.map(\.info.uuid)
        gpuByUUID = byUUIDIndex
        gpusByHost = byHost
        let hostPostings = Self.aliasPostings(GPULabelAliases.hostname, s)
        hosts = hostPostings.sorted(by: { $0.key < $1.key }).compactMap { host, ids in
            let n = Self.distinctGPUs(ids, s)
            return n == 0 ? nil : HostInfo(hostname: host, gpuCount: n, seriesCount: ids.count)
        }
        let nsPostings = Self.aliasPostings(GPULabelAliases.namespace, s)
        namespaces = nsPostings.sorted(by: { $0.key < $1.key }).compactMap { ns, ids in
            let n = Self.distinctGPUs(ids, s)
            return n == 0 ? nil : NamespaceInfo(namespace: ns, gpuCount: n, seriesCount: ids.count)
        }
    }

    /// The position of the first key after `after` in ascending `keys` (0 without a cursor).
    static func start<T>(_ items: [T], after: String?, key: (T) -> String) -> Int {
        guard let after else { return 0 }
        var lo = 0, hi = items.count
        while lo < hi { let m = (lo + hi) >> 1; if key(items[m]) <= after { lo = m + 1 } else { hi = m } }
        return lo
    }

    /// A GPU's info with first and last seen read from the engine's per-series bounds.
    static func withSeen(_ g: (info: GPUInfo, ids: [UInt32]), _ s: TSDB.State) -> GPUInfo {
        var info = g.info
        var first = Int64.max, last = Int64.min
        for id in g.ids {
            let i = Int(id)
            guard i < s.seriesMin.count else { continue }
            first = min(first, s.seriesMin[i])
            last = max(last, s.seriesMax[i])
        }
        info.firstSeen = first == Int64.max ? nil : first
        info.lastSeen = last == Int64.min ? nil : last
        return info
    }

    /// Value → ascending series ids over every alias of a field, each series counted under the
    /// first alias it carries (the one ``GPULabelAliases/first(_:in:)`` reads).
    static func aliasPostings(_ names: [String], _ s: TSDB.State) -> [String: [UInt32]] {
        var out: [String: [UInt32]] = [:]
        for (k, name) in names.enumerated() {
            guard let byValue = s.index.postings[name] else { continue }
            let earlier = names[..<k]
            for (value, ids) in byValue {
                let own = earlier.isEmpty ? ids : ids.filter { id in
                    s.index.contains(id) && !earlier.contains { s.index.hasLabel($0, id) }
                }
                guard !own.isEmpty else { continue }
                if let existing = out[value] { out[value] = existing.mergeSorted(own) } else { out[value] = own }
            }
        }
        return out
    }

    static func aliasPostings(_ names: [String], _ s: TSDB.State, value: String) -> [UInt32] {
        var out: [UInt32] = []
        for (k, name) in names.enumerated() {
            guard let ids = s.index.postings[name]?[value] else { continue }
            let earlier = names[..<k]
            let own = earlier.isEmpty ? ids : ids.filter { id in
                s.index.contains(id) && !earlier.contains { s.index.hasLabel($0, id) }
            }
            out = out.mergeSorted(own)
        }
        return out
    }

    /// Everything the labels say about a GPU, first and last seen included.
    static func gpuInfo(uuid: String, ids: [UInt32], _ s: TSDB.State) -> GPUInfo {
        var info = GPUInfo(uuid: uuid, namespaces: [], seriesCount: ids.count)
        var namespaces = Set<String>()
        var pods = Set<String>()
        var migByID: [String: MIGInstance] = [:]
        // The newest series carries the current host/index/model (a GPU may move, an exporter
        // upgrade may respell a label): walk from the newest id and keep the first value found.
        var lastNamespace: String?
        for id in ids.reversed() {
            guard let l = s.index.labels(of: id), let g = GPULabelAliases.identity(of: l) else { continue }
            if info.gpuIndex == nil { info.gpuIndex = g.index }
            if info.device == nil { info.device = g.device }
            if info.model == nil { info.model = g.model }
            if info.hostname == nil { info.hostname = g.hostname }
            // Series of one GPU mostly share a namespace: skip re-hashing the same one.
            if let ns = g.namespace, ns != lastNamespace {
                namespaces.insert(ns)
                lastNamespace = ns
            }
            if let pod = g.pod { pods.insert(pod) }
            // The newest series' profile of a slice wins (a slice can be re-created).
            if let m = g.migInstance, migByID[m.id]?.profile == nil {
                migByID[m.id] = MIGInstance(id: m.id, profile: m.profile ?? migByID[m.id]?.profile)
            }
        }
        info.namespaces = namespaces.sorted()
        info.pods = pods.sorted()
        info.migInstances = migByID.values.sorted()
        return withSeen((info, ids), s)
    }

    /// How many GPUs (distinct UUIDs) these series belong to. A GPU's series sit next to each
    /// other in id order (one scrape creates them together), so a run of the same UUID is
    /// hashed once.
    static func distinctGPUs(_ ids: [UInt32], _ s: TSDB.State) -> Int {
        var seen = Set<String>()
        var previous: String?
        for id in ids {
            guard let l = s.index.labels(of: id), let uuid = GPULabelAliases.first(GPULabelAliases.uuid, in: l),
                  uuid != previous else { continue }
            seen.insert(uuid)
            previous = uuid
        }
        return seen.count
    }
}
