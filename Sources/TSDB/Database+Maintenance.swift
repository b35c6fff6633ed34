import Foundation

extension TSDB {
    /// Seals the whole head into a block, compacts, applies retention and checkpoints the
    /// catalog, so the data directory holds its settled size.
    @discardableResult
    public func flush() async throws -> FlushReport {
        try maintenance.withLock {
            var report = FlushReport()
            let sealed = try sealHead()
            report.samplesSealed = sealed
            report.blocksWritten = sealed > 0 ? 1 : 0
            report.blocksCompacted = try compactBlocks()
            report.blocksDeletedByRetention = try applyRetention()
            try catalog.checkpoint()
            return report
        }
    }

    func startMaintenance() {
        let task = Task.detached(priority: .background) { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(500))
                guard let self, !Task.isCancelled else { return }
                self.runMaintenanceOnce()
            }
        }
        maintenanceTask.withLock { $0 = task }
    }

    /// One round of background work: seal when the head asked for it, then compact and
    /// apply retention. Errors are logged; the next round tries again.
    func runMaintenanceOnce() {
        let wanted = state.withLock { s in s.sealRequested && !s.closed }
        do {
            try maintenance.withLock {
                if state.withLock({ $0.closed }) { return }
                if wanted { try sealHead() }
                try compactBlocks()
                try applyRetention()
            }
        } catch {
            logger.error("background maintenance failed: \(error)")
        }
    }

    /// Moves the head into a frozen head (still queried), writes it as a block, registers
    /// the block, drops the frozen head and deletes the WAL segments it came from.
    /// Caller holds `maintenance`.
    @discardableResult
    func sealHead() throws -> Int {
        let frozen: FrozenHead? = state.withLock { s in
            s.sealRequested = false
            guard !s.head.isEmpty, !s.closed else { return nil }
            let boundary = wal.rotate()
            let number = s.nextBlockNumber
            s.nextBlockNumber += 1
            let f = FrozenHead(head: s.head, priority: number, walBoundary: boundary)
            var fresh = Head()
            fresh.columns = Array(repeating: HeadColumn(), count: s.head.columns.count)
            s.head = fresh
            s.frozen.append(f)
            engineMetrics.headSamples.record(0)
            return f
        }
        guard let frozen else { return 0 }
        var series: [BlockWriter.SeriesData] = []
        for (i, column) in frozen.head.columns.enumerated() where !column.isEmpty {
            let c = column.flattened()
            series.append(BlockWriter.SeriesData(id: UInt32(i), timestamps: c.timestamps, values: c.values))
        }
        let writer = BlockWriter(blocksDirectory: blocksDirectory, samplesPerChunk: options.samplesPerChunk)
        let id = Self.blockID(frozen.priority)
        let record = try writer.write(id: id, series: series, priority: frozen.priority, level: 0)
        try catalog.replaceBlocks(remove: [], add: [record])
        let block = try Block(path: "\(blocksDirectory)/\(id)", record: record)
        state.withLock { s in
            s.blocks.append(block)
            s.blocks.sort { ($0.record.priority, $0.record.id) < ($1.record.priority, $1.record.id) }
            s.frozen.removeAll { $0.priority == frozen.priority }
            engineMetrics.blocks.record(s.blocks.count)
        }
        wal.removeSegments(before: frozen.walBoundary)
        logger.info("sealed head into block", metadata: ["block": "\(id)", "samples": "\(record.samples)", "bytes": "\(record.bytes)"])
        return record.samples
    }

    static func blockID(_ number: Int64) -> String { String(format: "b%010lld", number) }

    /// Merges blocks that fall in the same compaction window (`compactedBlockDuration`,
    /// aligned to the epoch) into one. Newer data wins on equal timestamps. Returns how many
    /// blocks were merged away. Caller holds `maintenance`.
    @discardableResult
    func compactBlocks() throws -> Int {
        let span = options.compactedBlockDuration
        let blocks = state.withLock { $0.blocks }
        var groups: [Int64: [Block]] = [:]
        for b in blocks {
            let w = Self.floorDiv(b.record.minTime, span)
            guard Self.floorDiv(b.record.maxTime, span) == w else { continue }
            groups[w, default: []].append(b)
        }
        var merged = 0
        for (_, group) in groups.sorted(by: { $0.key < $1.key }) where group.count >= 2 {
            try merge(group)
            merged += group.count
            engineMetrics.compactions.increment()
        }
        return merged
    }

    private func merge(_ inputs: [Block]) throws {
        let ordered = inputs.sorted { ($0.record.priority, $0.record.id) < ($1.record.priority, $1.record.id) }
        var ids = Set<UInt32>()
        for b in ordered { ids.formUnion(b.seriesIDs) }
        var series: [BlockWriter.SeriesData] = []
        series.reserveCapacity(ids.count)
        var ts: [Int64] = [], vs: [Double] = [], scratch: [UInt8] = []
        for id in ids.sorted() {
            var sources: [(ts: [Int64], vs: [Double])] = []
            for b in ordered {
                var sTS: [Int64] = [], sVS: [Double] = []
                for meta in b.chunks(of: id) {
                    try b.decode(meta, timestamps: &ts, values: &vs, scratch: &scratch)
                    sTS.append(contentsOf: ts[0..<meta.count])
                    sVS.append(contentsOf: vs[0..<meta.count])
                }
                if !sTS.isEmpty { sources.append((sTS, sVS)) }
            }
            let (mt, mv) = SampleMerge.merge(sources)
            series.append(BlockWriter.SeriesData(id: id, timestamps: mt, values: mv))
        }
        let number = state.withLock { s -> Int64 in
            defer { s.nextBlockNumber += 1 }
            return s.nextBlockNumber
        }
        let priority = ordered.map(\.record.priority).max() ?? number
        let level = (ordered.map(\.record.level).max() ?? 0) + 1
        let id = Self.blockID(number)
        let writer = BlockWriter(blocksDirectory: blocksDirectory, samplesPerChunk: options.samplesPerChunk)
        let record = try writer.write(id: id, series: series, priority: priority, level: level)
        let removed = ordered.map(\.record.id)
        try catalog.replaceBlocks(remove: removed, add: [record])
        let block = try Block(path: "\(blocksDirectory)/\(id)", record: record)
        state.withLock { s in
            s.blocks.removeAll { removed.contains($0.record.id) }
            s.blocks.append(block)
            s.blocks.sort { ($0.record.priority, $0.record.id) < ($1.record.priority, $1.record.id) }
            engineMetrics.blocks.record(s.blocks.count)
        }
        for r in removed { try? FileManager.default.removeItem(atPath: "\(blocksDirectory)/\(r)") }
        logger.info("compacted blocks", metadata: ["into": "\(id)", "from": "\(removed)"])
    }

    /// Deletes blocks whose newest sample is older than the retention period behind the
    /// wall clock (not the newest sample: one far-future sample must not delete the rest).
    /// Returns how many. Caller holds `maintenance`.
    @discardableResult
    func applyRetention() throws -> Int {
        guard let retention = options.retention else { return 0 }
        let blocks = state.withLock { $0.blocks }
        let (cutoff, overflow) = options.clock().subtractingReportingOverflow(retention)
        guard !overflow else { return 0 }
        let doomed = blocks.filter { $0.record.maxTime < cutoff }.map(\.record.id)
        guard !doomed.isEmpty else { return 0 }
        try catalog.replaceBlocks(remove: doomed, add: [])
        state.withLock { s in
            s.blocks.removeAll { doomed.contains($0.record.id) }
            engineMetrics.blocks.record(s.blocks.count)
        }
        for r in doomed { try? FileManager.default.removeItem(atPath: "\(blocksDirectory)/\(r)") }
        logger.info("retention deleted blocks", metadata: ["blocks": "\(doomed)"])
        return doomed.count
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
}
