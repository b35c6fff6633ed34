extension TSDB {
    /// Every GPU with telemetry (a series with a UUID label of ``GPULabelAliases``), sorted by
    /// UUID. A GPU whose series spell a label differently (`Hostname` then `hostname`) is one GPU.
    public func gpus() -> [GPUInfo] {
        state.withLock { s in
            let byUUID = Self.aliasPostings(GPULabelAliases.uuid, s)
            return byUUID.keys.sorted().map { Self.gpuInfo(uuid: $0, ids: byUUID[$0]!, s) }
        }
    }

    public func gpu(uuid: String) -> GPUInfo? {
        state.withLock { s in
            let ids = Self.aliasPostings(GPULabelAliases.uuid, s, value: uuid)
            return ids.isEmpty ? nil : Self.gpuInfo(uuid: uuid, ids: ids, s)
        }
    }

    /// The label name that carries this GPU's UUID on most of its series (`UUID` unless its
    /// writer spelled it otherwise), for selecting its series with one matcher.
    public func uuidLabelName(of uuid: String) -> String {
        state.withLock { s in
            var best = (name: GPULabelAliases.uuid[0], count: 0)
            for name in GPULabelAliases.uuid {
                let n = s.index.postings[name]?[uuid]?.count ?? 0
                if n > best.count { best = (name, n) }
            }
            return best.name
        }
    }

    /// Value → ascending series ids over every alias of a field, each series counted under the
    /// first alias it carries (the one ``GPULabelAliases/first(_:in:)`` reads).
    private static func aliasPostings(_ names: [String], _ s: State) -> [String: [UInt32]] {
        var out: [String: [UInt32]] = [:]
        for (k, name) in names.enumerated() {
            guard let byValue = s.index.postings[name] else { continue }
            let earlier = names[..<k]
            for (value, ids) in byValue {
                let own = earlier.isEmpty ? ids : ids.filter { id in
                    guard let l = s.index.labels(of: id) else { return false }
                    return !earlier.contains { l[$0] != nil }
                }
                guard !own.isEmpty else { continue }
                if let existing = out[value] { out[value] = existing.mergeSorted(own) } else { out[value] = own }
            }
        }
        return out
    }

    private static func aliasPostings(_ names: [String], _ s: State, value: String) -> [UInt32] {
        var out: [UInt32] = []
        for (k, name) in names.enumerated() {
            guard let ids = s.index.postings[name]?[value] else { continue }
            let earlier = names[..<k]
            let own = earlier.isEmpty ? ids : ids.filter { id in
                guard let l = s.index.labels(of: id) else { return false }
                return !earlier.contains { l[$0] != nil }
            }
            out = out.mergeSorted(own)
        }
        return out
    }

    private static func gpuInfo(uuid: String, ids: [UInt32], _ s: State) -> GPUInfo {
        var info = GPUInfo(uuid: uuid, namespaces: [], seriesCount: ids.count)
        var namespaces = Set<String>()
        var pods = Set<String>()
        var migByID: [String: MIGInstance] = [:]
        var first = Int64.max, last = Int64.min
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
            let i = Int(id)
            if i < s.seriesMin.count {
                first = min(first, s.seriesMin[i])
                last = max(last, s.seriesMax[i])
            }
        }
        info.namespaces = namespaces.sorted()
        info.pods = pods.sorted()
        info.migInstances = migByID.values.sorted()
        info.firstSeen = first == Int64.max ? nil : first
        info.lastSeen = last == Int64.min ? nil : last
        return info
    }

    /// Hosts (a host label of ``GPULabelAliases``) with at least one GPU, with their GPU and
    /// series counts (all of the host's series, NVSwitch and CPU ones included), sorted by name.
    /// `Hostname="a"` and `hostname="a"` are one host. Hosts with no GPU series (a Telegraf
    /// agent's `host` on CPU metrics, everything else a Prometheus remote-writes) are not GPU
    /// fleet inventory and are left out.
    public func hosts() -> [HostInfo] {
        state.withLock { s in
            let byHost = Self.aliasPostings(GPULabelAliases.hostname, s)
            return byHost.keys.sorted().compactMap { host in
                let ids = byHost[host]!
                let gpus = Self.distinctGPUs(ids, s)
                return gpus == 0 ? nil : HostInfo(hostname: host, gpuCount: gpus, seriesCount: ids.count)
            }
        }
    }

    /// How many GPUs (distinct UUIDs) these series belong to. A GPU's series sit next to each
    /// other in id order (one scrape creates them together), so a run of the same UUID is
    /// hashed once.
    private static func distinctGPUs(_ ids: [UInt32], _ s: State) -> Int {
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

    /// GPUs of one host, sorted by GPU index then UUID.
    public func gpus(hostname: String) -> [GPUInfo] {
        gpus().filter { $0.hostname == hostname }
            .sorted { (Int($0.gpuIndex ?? "") ?? Int.max, $0.uuid) < (Int($1.gpuIndex ?? "") ?? Int.max, $1.uuid) }
    }

    /// Namespaces (``GPULabelAliases/namespace``: the exporter's `exported_namespace` before
    /// the scrape target's `namespace`) that hold a GPU, with their GPU and series counts.
    /// Namespaces only non-GPU series carry (kube-state-metrics and the like, when a whole
    /// Prometheus remote-writes to us) are left out.
    public func namespaces() -> [NamespaceInfo] {
        state.withLock { s in
            let byNS = Self.aliasPostings(GPULabelAliases.namespace, s)
            return byNS.keys.sorted().compactMap { ns in
                let ids = byNS[ns]!
                let gpus = Self.distinctGPUs(ids, s)
                return gpus == 0 ? nil : NamespaceInfo(namespace: ns, gpuCount: gpus, seriesCount: ids.count)
            }
        }
    }

    public func metrics() -> [MetricInfo] {
        state.withLock { s in
            (s.index.postings[Labels.metricName] ?? [:]).map { MetricInfo(name: $0.key, seriesCount: $0.value.count) }
                .sorted { $0.name < $1.name }
        }
    }

    /// Number of series in the catalog.
    public var seriesCount: Int { state.withLock { $0.index.count } }

    public func labelNames() -> [String] { state.withLock { $0.index.labelNames } }

    public func labelValues(_ name: String) -> [String] { state.withLock { $0.index.values(of: name) } }

    /// Labels of every series the metric and matchers select (for series listings).
    public func series(metric: String? = nil, matchers: [LabelMatcher] = []) -> [Labels] {
        guard let ids = try? selectSeries(metric: metric, matchers: matchers).ids else { return [] }
        return state.withLock { s in ids.compactMap { s.index.labels(of: $0) } }
    }
}
