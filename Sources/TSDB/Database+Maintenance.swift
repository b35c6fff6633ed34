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
        // A frozen head left by a failed seal is retried every round.
        let wanted = state.withLock { s in (s.sealRequested || !s.frozen.isEmpty) && !s.closed }
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

    /// Moves the head into a frozen head (still queried), then writes every frozen head,
    /// oldest first, as a block, registers it, drops it and deletes the WAL segments it came
    /// from. A frozen head whose seal failed (full disk, catalog error) stays queried and
    /// keeps its WAL segments; the next seal retries it before any newer one, so a later
    /// seal never deletes WAL segments of data that is not yet in a block.
    /// Caller holds `maintenance`.
    @discardableResult
    func sealHead() throws -> Int {
        let pending: [FrozenHead] = state.withLock { s in
            s.sealRequested = false
            guard !s.closed else { return [] }
            if !s.head.isEmpty {
                let boundary = wal.rotate()
                let number = s.nextBlockNumber
                s.nextBlockNumber += 1
                s.frozen.append(FrozenHead(head: s.head, priority: number, walBoundary: boundary))
                var fresh = Head()
                fresh.columns = Array(repeating: HeadColumn(), count: s.head.columns.count)
                s.head = fresh
                engineMetrics.headSamples.record(0)
            }
            return s.frozen.sorted { $0.priority < $1.priority }
        }
        var sealed = 0
        for frozen in pending { sealed += try seal(frozen) }
        return sealed
    }

    /// Writes one frozen head as a block. Every older frozen head is sealed already.
    private func seal(_ frozen: FrozenHead) throws -> Int {
        // One column decoded at a time: the seal never holds a raw copy of the whole head.
        let series = frozen.head.columns.indices.lazy.filter { !frozen.head.columns[$0].isEmpty }.map { i in
            let c = frozen.head.columns[i].flattened()
            return BlockWriter.SeriesData(id: UInt32(i), timestamps: c.timestamps, values: c.values)
        }
        let id = Self.blockID(frozen.priority)
        // A failed earlier attempt may have renamed the block into place unregistered.
        let path = "\(blocksDirectory)/\(id)"
        if !state.withLock({ s in s.blocks.contains { $0.record.id == id } }) { try? FileManager.default.removeItem(atPath: path) }
        try faults.reach(.sealWrite)
        let writer = BlockWriter(blocksDirectory: blocksDirectory, samplesPerChunk: options.samplesPerChunk)
        let record = try writer.write(id: id, series: series, priority: frozen.priority, level: 0)
        try faults.reach(.sealCatalog)
        try catalog.replaceBlocks(remove: [], add: [record])
        let block = try Block(path: path, record: record)
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

    /// Unlinks block directories and returns the ids that are gone (removed or absent).
    static func removeBlockDirectories(dir: String, ids: [String]) -> [String] {
        let fm = FileManager.default
        return ids.filter { id in
            let path = "\(dir)/\(id)"
            if !fm.fileExists(atPath: path) { return true }
            return (try? fm.removeItem(atPath: path)) != nil
        }
    }

    /// Unlinks blocks the catalog already unregistered and recorded as pending deletions,
    /// then forgets the ones that are gone; what is left is finished on the next open.
    func deleteUnregistered(_ ids: [String]) {
        do { try catalog.finishDeletions(Self.removeBlockDirectories(dir: blocksDirectory, ids: ids)) } catch {
            logger.warning("block deletion is finished on the next open: \(error)")
        }
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
        try faults.reach(.compactionSwapped)
        deleteUnregistered(removed)
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
        try faults.reach(.retentionRecorded)
        deleteUnregistered(doomed)
        logger.info("retention deleted blocks", metadata: ["blocks": "\(doomed)"])
        return doomed.count
    }

    @inline(__always)
    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
}
