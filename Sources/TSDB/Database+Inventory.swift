extension TSDB {
    /// Every GPU with telemetry (a series with a `UUID` label), sorted by UUID.
    public func gpus() -> [GPUInfo] {
        state.withLock { s in
            guard let byUUID = s.index.postings[InventoryLabel.uuid] else { return [] }
            return byUUID.keys.sorted().map { Self.gpuInfo(uuid: $0, ids: byUUID[$0]!, s) }
        }
    }

    public func gpu(uuid: String) -> GPUInfo? {
        state.withLock { s in
            guard let ids = s.index.postings[InventoryLabel.uuid]?[uuid] else { return nil }
            return Self.gpuInfo(uuid: uuid, ids: ids, s)
        }
    }

    private static func gpuInfo(uuid: String, ids: [UInt32], _ s: State) -> GPUInfo {
        var info = GPUInfo(uuid: uuid, namespaces: [], seriesCount: ids.count)
        var namespaces = Set<String>()
        var first = Int64.max, last = Int64.min
        // The newest series carries the current host/index/model (a GPU may move): walk from
        // the newest id and keep the first value of each field found.
        var lastNamespace: String?
        for id in ids.reversed() {
            guard let l = s.index.labels(of: id) else { continue }
            if info.gpuIndex == nil || info.device == nil || info.model == nil || info.hostname == nil {
                if info.gpuIndex == nil { info.gpuIndex = l[InventoryLabel.gpu] }
                if info.device == nil { info.device = l[InventoryLabel.device] }
                if info.model == nil { info.model = l[InventoryLabel.model] }
                if info.hostname == nil { info.hostname = l[InventoryLabel.hostname] }
            }
            // Series of one GPU mostly share a namespace: skip re-hashing the same one.
            if let ns = l[InventoryLabel.namespace], ns != lastNamespace {
                namespaces.insert(ns)
                lastNamespace = ns
            }
            let i = Int(id)
            if i < s.seriesMin.count {
                first = min(first, s.seriesMin[i])
                last = max(last, s.seriesMax[i])
            }
        }
        info.namespaces = namespaces.sorted()
        info.firstSeen = first == Int64.max ? nil : first
        info.lastSeen = last == Int64.min ? nil : last
        return info
    }

    /// Hosts (the `Hostname` label) with their GPU and series counts, sorted by name.
    public func hosts() -> [HostInfo] {
        state.withLock { s in
            guard let byHost = s.index.postings[InventoryLabel.hostname] else { return [] }
            return byHost.keys.sorted().map { host in
                let ids = byHost[host]!
                return HostInfo(hostname: host, gpuCount: Self.distinctGPUs(ids, s), seriesCount: ids.count)
            }
        }
    }

    /// How many GPUs (distinct `uuid` labels) these series belong to. A GPU's series sit
    /// next to each other in id order (one scrape creates them together), so a run of the
    /// same uuid is hashed once.
    private static func distinctGPUs(_ ids: [UInt32], _ s: State) -> Int {
        var seen = Set<String>()
        var previous: String?
        for id in ids {
            guard let uuid = s.index.labels(of: id)?[InventoryLabel.uuid], uuid != previous else { continue }
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

    public func namespaces() -> [NamespaceInfo] {
        state.withLock { s in
            guard let byNS = s.index.postings[InventoryLabel.namespace] else { return [] }
            return byNS.keys.sorted().map { ns in
                let ids = byNS[ns]!
                return NamespaceInfo(namespace: ns, gpuCount: Self.distinctGPUs(ids, s), seriesCount: ids.count)
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
