import Foundation
import Primitives

extension TSDB {
    /// Returns the series id of each label set, creating the new ones in the catalog (one
    /// transaction for all of them). Known series never touch SQLite.
    public func resolve(_ labels: [Labels]) throws -> [SeriesRef] {
        var out = [SeriesRef](repeating: SeriesRef(0), count: labels.count)
        let hashes = labels.map { XXHash64.hash($0.canonicalBytes) }
        var missing: [Int] = []
        try state.withLock { s in
            guard !s.closed else { throw TSDBError.closed }
            for i in labels.indices {
                if let id = s.index.lookup(labels[i], hash: hashes[i]) { out[i] = SeriesRef(id) } else { missing.append(i) }
            }
        }
        guard !missing.isEmpty else { return out }
        do {
            try createMissing(labels, hashes: hashes, missing: missing, into: &out)
        } catch let e as TSDBError {
            if case .seriesRefused(let limit, _, _) = e { engineMetrics.seriesRefused[limit]?.increment() }
            throw e
        }
        return out
    }

    /// Creates the series of `labels[missing]` not created meanwhile, after checking them
    /// against ``TSDBOptions/seriesLimits`` (all of them first: a refusal creates none).
    private func createMissing(_ labels: [Labels], hashes: [UInt64], missing: [Int], into out: inout [SeriesRef]) throws {
        try creation.withLock { budget in
            // Another writer may have created some meanwhile.
            var unique: [Labels] = []
            var uniqueHashes: [UInt64] = []
            var positions: [Labels: [Int]] = [:]
            state.withLock { s in
                for i in missing {
                    if let id = s.index.lookup(labels[i], hash: hashes[i]) {
                        out[i] = SeriesRef(id)
                    } else {
                        if positions[labels[i]] == nil { unique.append(labels[i]); uniqueHashes.append(hashes[i]) }
                        positions[labels[i], default: []].append(i)
                    }
                }
            }
            guard !unique.isEmpty else { return }
            for l in unique where l.metric == nil {
                throw TSDBError.invalidQuery("a series needs a metric name (__name__): \(l)")
            }
            let limits = options.seriesLimits
            for l in unique { try limits.check(l) }
            if let max = limits.maxNewSeriesPerRequest, unique.count > max {
                throw TSDBError.seriesRefused(.newSeriesPerRequest, detail: "the request would create \(unique.count) new series, over the limit of \(max)")
            }
            // Charged only once the series exist, so a failed insert costs no budget.
            var charged = budget
            try charged.take(unique.count, limit: limits.maxNewSeriesPerHour, now: options.clock())
            let ids = try catalog.insertSeries(unique)
            budget = charged
            state.withLock { s in
                for (k, l) in unique.enumerated() {
                    s.index.add(id: ids[k], labels: l, hash: uniqueHashes[k])
                    s.ensureSeries(ids[k])
                    for i in positions[l] ?? [] { out[i] = SeriesRef(ids[k]) }
                }
                engineMetrics.series.record(s.index.count)
            }
        }
    }

    public func resolve(_ labels: Labels) throws -> SeriesRef { try resolve([labels])[0] }

    /// Appends the batch; returns once its WAL record is durable under the fsync policy.
    ///
    /// Refused, counted in the result and never stored: samples more than
    /// ``TSDBOptions/maxFuture`` ahead of the wall clock, and samples older than the
    /// out-of-order window behind their series' newest sample — or behind the wall clock,
    /// when that newest sample lies in the future, so one far-future sample cannot make every
    /// present-day one "out of order". The other samples are stored; a duplicate timestamp
    /// replaces the value. Out-of-order samples are sorted per series before the engine lock
    /// is taken and merged as sorted runs under it (see ``HeadColumn``).
    @discardableResult
    public func append(_ batch: SampleBatch) async throws -> AppendResult {
        guard batch.refs.count == batch.timestamps.count, batch.refs.count == batch.values.count else {
            throw TSDBError.invalidQuery("sample batch columns differ in length")
        }
        guard !batch.isEmpty else { return AppendResult() }
        let now = options.clock()
        let (present, tooFar) = Self.refuseFuture(batch, now: now, maxFuture: options.maxFuture)
        let ordered = present.orderedPerSeries()
        // Encoded outside the lock; re-encoded under it only when the window refuses samples.
        let encoded = ordered.isEmpty ? [] : WALRecord.encode(ordered)
        let window = options.outOfOrderWindow
        let (seq, result, seal, accepted) = try state.withLock { s -> (UInt64, AppendResult, Bool, SampleBatch) in
            guard !s.closed else { throw TSDBError.closed }
            let maxID = s.index.maxID
            var rejected: [Int] = []
            for i in 0..<ordered.count {
                let id = ordered.refs[i]
                guard id >= 1, id <= maxID, s.index.contains(id) else { throw TSDBError.unknownSeries(id) }
                let newest = s.seriesMax[Int(id)]
                guard newest != Int64.min else { continue }
                let reference = min(newest, now)
                let (floor, overflow) = reference.subtractingReportingOverflow(window)
                if !overflow, ordered.timestamps[i] < floor { rejected.append(i) }
            }
            var accepted = ordered
            var record = encoded
            if !rejected.isEmpty {
                accepted = SampleBatch(capacity: ordered.count - rejected.count)
                var r = 0
                for i in 0..<ordered.count {
                    if r < rejected.count, rejected[r] == i { r += 1; continue }
                    accepted.append(SeriesRef(ordered.refs[i]), ordered.timestamps[i], ordered.values[i])
                }
                record = accepted.isEmpty ? [] : WALRecord.encode(accepted)
            }
            let refused = AppendResult(appended: 0, outOfWindow: rejected.count, tooFarInFuture: tooFar)
            guard !accepted.isEmpty else { return (0, refused, false, accepted) }
            let seq = try wal.enqueue(record)
            s.apply(accepted)
            let seal = s.head.samples >= options.maxHeadSamples
                || (s.head.maxTime &- s.head.minTime >= options.blockDuration && s.head.maxTime > s.head.minTime)
            if seal { s.sealRequested = true }
            engineMetrics.headSamples.record(s.head.samples)
            return (seq, AppendResult(appended: accepted.count, outOfWindow: rejected.count, tooFarInFuture: tooFar), seal, accepted)
        }
        if seq > 0 { try await wal.waitDurable(seq) }
        engineMetrics.appended.increment(by: result.appended)
        if result.outOfWindow > 0 { engineMetrics.outOfWindow.increment(by: result.outOfWindow) }
        if result.tooFarInFuture > 0 {
            engineMetrics.tooFarInFuture.increment(by: result.tooFarInFuture)
            let last = futureWarnedAt.load(ordering: .relaxed)
            if last == Int64.min || now &- last >= 10 * Nanos.second || last > now,
               futureWarnedAt.compareExchange(expected: last, desired: now, ordering: .relaxed).exchanged {
                logger.warning("refused samples too far ahead of the clock", metadata: [
                    "count": "\(result.tooFarInFuture)", "max_future_ns": "\(options.maxFuture ?? 0)", "stored": "\(result.appended)",
                ])
            }
        }
        if seal, !options.backgroundMaintenance {
            logger.debug("head spans the block duration; it is sealed on the next flush")
        }
        if !accepted.isEmpty { notifySubscribers(accepted) }
        return result
    }

    /// The batch without samples more than `maxFuture` ahead of `now`, and how many those were.
    static func refuseFuture(_ batch: SampleBatch, now: Int64, maxFuture: Int64?) -> (SampleBatch, Int) {
        guard let maxFuture else { return (batch, 0) }
        let (limit, overflow) = now.addingReportingOverflow(maxFuture)
        guard !overflow else { return (batch, 0) }
        var bad = 0
        for t in batch.timestamps where t > limit { bad += 1 }
        guard bad > 0 else { return (batch, 0) }
        var kept = SampleBatch(capacity: batch.count - bad)
        for i in 0..<batch.count where batch.timestamps[i] <= limit {
            kept.append(SeriesRef(batch.refs[i]), batch.timestamps[i], batch.values[i])
        }
        return (kept, bad)
    }

    /// Resolves the label sets and appends the samples (the convenient, slower form).
    @discardableResult
    public func append(_ samples: [LabeledSample]) async throws -> AppendResult {
        let refs = try resolve(samples.map(\.labels))
        var batch = SampleBatch(capacity: samples.count)
        for (i, s) in samples.enumerated() { batch.append(refs[i], s.timestamp, s.value) }
        return try await append(batch)
    }

    /// New samples as they are appended (after they are durable), in batches. A slow reader
    /// loses the oldest batches beyond `bufferBatches`, never blocks writers.
    public func subscribe(bufferBatches: Int = 256) -> AsyncStream<[LabeledSample]> {
        let (stream, continuation) = AsyncStream<[LabeledSample]>.makeStream(bufferingPolicy: .bufferingNewest(bufferBatches))
        let key = subscribers.withLock { subs -> Int in
            let k = (subs.keys.max() ?? 0) + 1
            subs[k] = continuation
            return k
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.subscribers.withLock { $0.removeValue(forKey: key) }
        }
        return stream
    }

    private func notifySubscribers(_ batch: SampleBatch) {
        let subs = subscribers.withLock { Array($0.values) }
        guard !subs.isEmpty else { return }
        let view = state.withLock { $0.index.view }
        var samples: [LabeledSample] = []
        samples.reserveCapacity(batch.count)
        for i in 0..<batch.count {
            guard let labels = view.labels(of: batch.refs[i]) else { continue }
            samples.append(LabeledSample(labels: labels, timestamp: batch.timestamps[i], value: batch.values[i]))
        }
        for c in subs { c.yield(samples) }
    }
}
