/// The broker's blocking file I/O, each operation handed to its partition's `IOLane` so the
/// actor stays free for every other partition while the disk works.
extension MessageBroker {
    /// Waits until no other write of `p` is between its prepare and commit, then takes the
    /// turn (FIFO). Pair with `unlockWrites` on every path.
    func lockWrites(_ p: PartitionState) async {
        if !p.writing {
            p.writing = true
            return
        }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in p.writeWaiters.append(c) }
        // The releaser handed the turn over with `writing` still set.
    }

    func unlockWrites(_ p: PartitionState) {
        if p.writeWaiters.isEmpty {
            p.writing = false
        } else {
            p.writeWaiters.removeFirst().resume()
        }
    }

    /// Appends `payloads` to `p` (segment roll and write on the lane); returns the first
    /// offset and the segments to sync. The records are not yet visible.
    func appendRecords(_ p: PartitionState, _ payloads: [[UInt8]]) async throws -> (first: UInt64, touched: [Segment]) {
        await lockWrites(p)
        defer { unlockWrites(p) }
        let pending = p.log.prepareAppend(payloads: payloads, timestamp: Self.nowNanos())
        let segment = try await p.io.run { try PartitionLog.write(pending) }
        return (pending.first, p.log.commit(pending, into: segment))
    }

    /// Records of `p` from `offset`: from memory at once, from the segments on the lane.
    func readLog(_ p: PartitionState, from offset: UInt64, maxCount: Int) async throws -> [StoredRecord] {
        let plan = p.log.planRead(from: offset, maxCount: maxCount)
        if case .memory(let records) = plan { return records }
        return try await p.io.run { try PartitionLog.readPlanned(plan) }
    }

    /// The record at `offset`, if it is still retained.
    func readRecord(_ p: PartitionState, at offset: UInt64) async throws -> StoredRecord? {
        guard offset >= p.log.startOffset, offset < p.log.durableOffset else { return nil }
        guard let r = try await readLog(p, from: offset, maxCount: 1).first, r.offset == offset else { return nil }
        return r
    }

    /// Appends group-state entries on the lane. The caller holds `lockWrites(p)`.
    func appendGroupState(_ g: ConsumerGroup, _ p: PartitionState, kind: GroupStateFile.Kind, offsets: [UInt64]) async throws {
        guard let pending = g.state.prepareAppend(kind: kind, offsets: offsets) else { return }
        try await p.io.run { try GroupStateFile.write(pending) }
        g.state.commit(pending)
    }

    /// Compacts the group's state file (write, fsync, rename on the lane) under the write lock,
    /// so no entry is appended to the old file after the snapshot was taken.
    func snapshotGroupState(_ p: PartitionState, _ g: ConsumerGroup) async {
        await lockWrites(p)
        defer { unlockWrites(p) }
        guard g.state.entriesSinceSnapshot > 8192 + 2 * g.acked.count else { return }  // another ack did it meanwhile
        let pending = g.state.prepareSnapshot(committed: g.committed, acked: g.acked)
        do {
            let ref = try await p.io.run { try GroupStateFile.write(pending) }
            g.state.install(ref, pending)
        } catch {
            logger.warning("group state snapshot failed; keeping the append-only file", metadata: ["error": "\(error)"])
        }
    }
}
