extension TSDB {
    /// Runs `body` over the current inventory under the engine lock, rebuilding it first when
    /// series were added since it was built (once per change, not per request).
    private func withInventory<R: Sendable>(_ body: (InventoryIndex, State) -> R) -> R {
        state.withLock { s in
            let inventory = inventoryCache.withLock { cached -> InventoryIndex in
                if let c = cached, c.seriesCount == s.index.count { return c }
                let fresh = InventoryIndex(s)
                cached = fresh
                return fresh
            }
            return body(inventory, s)
        }
    }

    /// Every GPU with telemetry (a series with a UUID label of ``GPULabelAliases``), sorted by
    /// UUID. A GPU whose series spell a label differently (`Hostname` then `hostname`) is one GPU.
    public func gpus() -> [GPUInfo] {
        withInventory { inv, s in inv.gpus.map { InventoryIndex.withSeen($0, s) } }
    }

    /// The GPUs after the cursor `after` (a UUID), sorted by UUID, at most `limit`, with the
    /// optional filters: a binary search and a slice without filters, the host's own GPUs with
    /// `hostname`; `total` counts every GPU the filters select. Without `seen` the items'
    /// first and last seen are left nil (they are read from every series' bounds of the page).
    public func gpuPage(after: String? = nil, limit: Int, hostname: String? = nil, namespace: String? = nil, model: String? = nil,
                        seen: Bool = true) -> InventoryPage<GPUInfo> {
        withInventory { inv, s in
            func item(_ g: (info: GPUInfo, ids: [UInt32])) -> GPUInfo {
                if seen { return InventoryIndex.withSeen(g, s) }
                var info = g.info
                info.firstSeen = nil
                info.lastSeen = nil
                return info
            }
            func keep(_ g: GPUInfo) -> Bool {
                (model == nil || g.model == model) && (namespace == nil || g.namespaces.contains(namespace!))
            }
            if hostname == nil, namespace == nil, model == nil {
                let lo = InventoryIndex.start(inv.uuids, after: after) { $0 }
                let hi = min(inv.gpus.count, lo + max(0, limit))
                return InventoryPage(items: inv.gpus[lo..<hi].map(item), total: inv.gpus.count, hasMore: hi < inv.gpus.count)
            }
            let candidates = hostname.map { inv.gpusByHost[$0] ?? [] } ?? Array(inv.gpus.indices)
            var items: [GPUInfo] = []
            var total = 0, hasMore = false
            for i in candidates where keep(inv.gpus[i].info) {
                total += 1
                if let after, inv.gpus[i].info.uuid <= after { continue }
                if items.count < limit { items.append(item(inv.gpus[i])) } else { hasMore = true }
            }
            return InventoryPage(items: items, total: total, hasMore: hasMore)
        }
    }

    /// The UUIDs of ``gpuPage(after:limit:hostname:namespace:model:seen:)``'s unfiltered page,
    /// without copying the records: for listings that need only the keys.
    public func gpuUUIDPage(after: String? = nil, limit: Int) -> InventoryPage<String> {
        withInventory { inv, _ in
            let lo = InventoryIndex.start(inv.uuids, after: after) { $0 }
            let hi = min(inv.uuids.count, lo + max(0, limit))
            return InventoryPage(items: Array(inv.uuids[lo..<hi]), total: inv.uuids.count, hasMore: hi < inv.uuids.count)
        }
    }

    public func gpu(uuid: String) -> GPUInfo? {
        state.withLock { s in
            let ids = InventoryIndex.aliasPostings(GPULabelAliases.uuid, s, value: uuid)
            return ids.isEmpty ? nil : InventoryIndex.gpuInfo(uuid: uuid, ids: ids, s)
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

    /// Hosts (a host label of ``GPULabelAliases``) with at least one GPU, with their GPU and
    /// series counts (all of the host's series, NVSwitch and CPU ones included), sorted by name.
    /// `Hostname="a"` and `hostname="a"` are one host. Hosts with no GPU series (a Telegraf
    /// agent's `host` on CPU metrics, everything else a Prometheus remote-writes) are not GPU
    /// fleet inventory and are left out.
    public func hosts() -> [HostInfo] { withInventory { inv, _ in inv.hosts } }

    /// The hosts after the cursor `after` (a hostname), sorted by name, at most `limit`.
    public func hostPage(after: String? = nil, limit: Int) -> InventoryPage<HostInfo> {
        withInventory { inv, _ in Self.page(inv.hosts, after: after, limit: limit, key: \.hostname) }
    }

    /// A host of ``hosts()`` by name (a binary search).
    public func host(named hostname: String) -> HostInfo? {
        withInventory { inv, _ in
            let i = InventoryIndex.start(inv.hosts, after: hostname) { $0.hostname } - 1
            return i >= 0 && inv.hosts[i].hostname == hostname ? inv.hosts[i] : nil
        }
    }

    /// GPUs of one host, sorted by GPU index then UUID.
    public func gpus(hostname: String) -> [GPUInfo] {
        withInventory { inv, s in (inv.gpusByHost[hostname] ?? []).map { InventoryIndex.withSeen(inv.gpus[$0], s) } }
            .sorted { (Int($0.gpuIndex ?? "") ?? Int.max, $0.uuid) < (Int($1.gpuIndex ?? "") ?? Int.max, $1.uuid) }
    }

    /// Namespaces (``GPULabelAliases/namespace``: the exporter's `exported_namespace` before
    /// the scrape target's `namespace`) that hold a GPU, with their GPU and series counts.
    /// Namespaces only non-GPU series carry (kube-state-metrics and the like, when a whole
    /// Prometheus remote-writes to us) are left out.
    public func namespaces() -> [NamespaceInfo] { withInventory { inv, _ in inv.namespaces } }

    /// The namespaces after the cursor `after`, sorted by name, at most `limit`.
    public func namespacePage(after: String? = nil, limit: Int) -> InventoryPage<NamespaceInfo> {
        withInventory { inv, _ in Self.page(inv.namespaces, after: after, limit: limit, key: \.namespace) }
    }

    private static func page<T: Sendable>(_ items: [T], after: String?, limit: Int, key: (T) -> String) -> InventoryPage<T> {
        let lo = InventoryIndex.start(items, after: after, key: key)
        let hi = min(items.count, lo + max(0, limit))
        return InventoryPage(items: Array(items[lo..<hi]), total: items.count, hasMore: hi < items.count)
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
        let view = state.withLock { $0.index.view }
        return ids.compactMap { view.labels(of: $0) }
    }
}
