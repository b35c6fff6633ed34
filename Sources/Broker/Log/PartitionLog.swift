import Logging

/// One partition's append-only log: a list of segments (oldest first), the most recent
/// `queueSize` records held in memory so consumers of the hot tail never read the disk, and
/// the durable watermark below which records are visible to consumers.
///
/// Not thread-safe: owned and serialised by `MessageBroker`.
final class PartitionLog {
    let directory: String
    let partition: Int
    private(set) var segments: [Segment] = []
    /// Offset the next appended record gets.
    private(set) var nextOffset: UInt64 = 0
    /// Records below this are durable under the fsync policy and may be delivered.
    private(set) var durableOffset: UInt64 = 0
    private let segmentBytes: Int
    private let durableCreate: Bool
    private let logger: Logger

    // Memory tail: slot `offset % capacity` holds record `offset` for offsets in
    // `max(tailLow, nextOffset - capacity) ..< nextOffset`.
    private var tail: [StoredRecord?]
    private var tailLow: UInt64 = 0
    private var tailBytes = 0
    private let maxTailBytes: Int

    var startOffset: UInt64 { segments.first?.baseOffset ?? nextOffset }
    var byteSize: Int { segments.reduce(0) { $0 + $1.size } }

    init(directory: String, partition: Int, queueSize: Int, queueBytes: Int = 64 << 20, segmentBytes: Int, durable: Bool, logger: Logger) throws {
        self.maxTailBytes = max(1, queueBytes)
        self.directory = directory
        self.partition = partition
        self.segmentBytes = min(max(4096, segmentBytes), 1 << 30)
        self.durableCreate = durable
        self.logger = logger
        self.tail = Array(repeating: nil, count: max(1, queueSize))
        try FileIO.makeDirectory(directory)
        for name in FileIO.list(directory) where name.hasSuffix(".log") {
            let segment = try Segment.open(path: directory + "/" + name, logger: logger)
            if let last = segments.last, segment.baseOffset != last.endOffset {
                logger.error("gap between segments: records are missing", metadata: [
                    "partition_dir": "\(directory)", "expected": "\(last.endOffset)", "found": "\(segment.baseOffset)",
                ])
                if segment.baseOffset < last.endOffset { continue }
            }
            if let last = segments.last, last.recordCount == 0 {
                last.deleted = true
                segments.removeLast()
            }
            segments.append(segment)
        }
        if segments.isEmpty {
            segments.append(try Segment.create(directory: directory, baseOffset: 0, durable: durable))
        }
        nextOffset = segments.last!.endOffset
        durableOffset = nextOffset
        // Warm the memory tail from disk.
        let warmFrom = nextOffset > UInt64(tail.count) ? max(startOffset, nextOffset - UInt64(tail.count)) : startOffset
        tailLow = warmFrom
        var at = warmFrom
        while at < nextOffset {
            let batch = try readFromDisk(from: at, maxCount: 1000)
            guard let last = batch.last else { break }
            for r in batch { remember(r) }
            at = last.offset + 1
        }
        if at != nextOffset { tailLow = nextOffset }  // could not warm: serve from disk
    }

    /// An append encoded on the owner: its frames, its first offset, and whether it opens a
    /// new segment. The owner creates that segment and writes the frames off its executor
    /// (`Segment.create`, `Segment.write` on an `IOLane`), then calls `commit`. At most one
    /// append of a partition is between `prepareAppend` and `commit` at a time.
    struct PendingAppend: Sendable {
        let first: UInt64
        let timestamp: Int64
        let frames: [UInt8]
        let sizes: [Int]
        let payloads: [[UInt8]]
        /// The active segment, to write into unless `rollAt` says a new one starts.
        let active: Segment
        /// Base offset of the segment to create first (nil: write into `active`).
        let rollAt: UInt64?
        let segmentDirectory: String
        let durableCreate: Bool
        var position: Int
    }

    func prepareAppend(payloads: [[UInt8]], timestamp: Int64) -> PendingAppend {
        let active = segments[segments.count - 1]
        var frames: [UInt8] = []
        frames.reserveCapacity(payloads.reduce(0) { $0 + $1.count + RecordFrame.headerSize })
        var sizes: [Int] = []
        sizes.reserveCapacity(payloads.count)
        let first = nextOffset
        for (i, payload) in payloads.enumerated() {
            let before = frames.count
            RecordFrame.encode(offset: first + UInt64(i), timestamp: timestamp, payload: payload, into: &frames)
            sizes.append(frames.count - before)
        }
        let roll = active.recordCount > 0 && active.size + frames.count > segmentBytes
        return PendingAppend(first: first, timestamp: timestamp, frames: frames, sizes: sizes, payloads: payloads, active: active,
                             rollAt: roll ? nextOffset : nil, segmentDirectory: directory, durableCreate: durableCreate,
                             position: roll ? Segment.headerSize : active.size)
    }

    /// Records a written append: the new segment (if it rolled), positions, memory tail and
    /// the next offset. Returns the segments to sync before the records are acknowledged.
    func commit(_ a: PendingAppend, into segment: Segment) -> [Segment] {
        var touched: [Segment] = []
        if segment !== a.active {
            touched.append(a.active)  // its earlier writes must be durable before the new ones count
            segments.append(segment)
        }
        segment.commit(frameSizes: a.sizes, lastTimestamp: a.timestamp)
        touched.append(segment)
        for (i, payload) in a.payloads.enumerated() {
            remember(StoredRecord(offset: a.first + UInt64(i), timestamp: a.timestamp, payload: payload))
        }
        nextOffset += UInt64(a.payloads.count)
        return touched
    }

    /// Does the I/O of `a` (segment creation when it rolls, then the frames' write) where it is
    /// called; returns the segment written. Used on an `IOLane`.
    static func write(_ a: PendingAppend) throws -> Segment {
        var target = a.active
        if let base = a.rollAt {
            target = try Segment.create(directory: a.segmentDirectory, baseOffset: base, durable: a.durableCreate)
        }
        try target.write(frames: a.frames, at: a.position)
        return target
    }

    /// Appends `payloads` as consecutive records, all I/O on the calling thread; all or
    /// nothing. Returns the first offset and the segments to sync.
    func append(payloads: [[UInt8]], timestamp: Int64) throws -> (first: UInt64, touched: [Segment]) {
        let a = prepareAppend(payloads: payloads, timestamp: timestamp)
        let segment = try Self.write(a)
        return (a.first, commit(a, into: segment))
    }

    /// Puts `r` (the newest record) into the memory tail, evicting the oldest records beyond
    /// `queueSize` records or `queueBytes` bytes.
    private func remember(_ r: StoredRecord) {
        let capacity = UInt64(tail.count)
        if r.offset + 1 > capacity { tailLow = max(tailLow, r.offset + 1 - capacity) }
        let slot = Int(r.offset % capacity)
        if let old = tail[slot] { tailBytes -= old.payload.count }
        tail[slot] = r
        tailBytes += r.payload.count
        while tailBytes > maxTailBytes, tailLow < r.offset {
            let s = Int(tailLow % capacity)
            if let old = tail[s], old.offset == tailLow {
                tailBytes -= old.payload.count
                tail[s] = nil
            }
            tailLow += 1
        }
    }

    /// Appends `from ..< upTo` whose fsync finished while an earlier one had not yet.
    private var settledAbove: [UInt64: UInt64] = [:]

    /// Makes records `from ..< offset` visible to consumers once every record before them is
    /// too: appends on different segments may finish their fsyncs out of order.
    func markDurable(from start: UInt64, upTo offset: UInt64) {
        if start > durableOffset {
            settledAbove[start] = max(settledAbove[start] ?? 0, offset)
            return
        }
        if offset > durableOffset { durableOffset = min(offset, nextOffset) }
        while let end = settledAbove.removeValue(forKey: durableOffset) {
            if end > durableOffset { durableOffset = min(end, nextOffset) }
        }
    }

    /// Where records `offset ..< durableOffset` (at most `maxCount`) are: all in the memory
    /// tail, or byte ranges of segments to read (off the owner's executor) with `readPlanned`.
    enum ReadPlan: Sendable {
        case memory([StoredRecord])
        case disk([(segment: Segment, start: Int, end: Int)], below: UInt64)
    }

    func planRead(from offset: UInt64, maxCount: Int) -> ReadPlan {
        let from = max(offset, startOffset)
        guard from < durableOffset, maxCount > 0 else { return .memory([]) }
        let count = Int(min(UInt64(maxCount), durableOffset - from))
        if let hot = fromMemory(from, count), hot.count == count { return .memory(hot) }
        var ranges: [(segment: Segment, start: Int, end: Int)] = []
        var at = from
        var planned = 0
        for segment in segments where segment.endOffset > at && planned < count {
            if at < segment.baseOffset { at = segment.baseOffset }
            guard let r = segment.range(from: at, maxCount: count - planned) else { continue }
            ranges.append((segment, r.start, r.end))
            planned += Int(min(UInt64(count - planned), segment.endOffset - at))
            at = segment.endOffset
        }
        return .disk(ranges, below: min(durableOffset, from + UInt64(count)))
    }

    /// Executes a `.disk` plan (anywhere: it touches only the segments' descriptors).
    static func readPlanned(_ plan: ReadPlan) throws -> [StoredRecord] {
        switch plan {
        case .memory(let records):
            return records
        case .disk(let ranges, let below):
            var out: [StoredRecord] = []
            for r in ranges { out.append(contentsOf: try r.segment.readRecords(start: r.start, end: r.end)) }
            if let last = out.last, last.offset >= below { out.removeAll { $0.offset >= below } }
            return out
        }
    }

    private func fromMemory(_ from: UInt64, _ count: Int) -> [StoredRecord]? {
        let lowInMemory = max(tailLow, nextOffset > UInt64(tail.count) ? nextOffset - UInt64(tail.count) : 0)
        guard from >= lowInMemory else { return nil }
        var out: [StoredRecord] = []
        out.reserveCapacity(count)
        for o in from..<(from + UInt64(count)) {
            guard let r = tail[Int(o % UInt64(tail.count))], r.offset == o else { break }
            out.append(r)
        }
        return out
    }

    /// Reads records `offset ..< durableOffset`, at most `maxCount`, from memory when they are
    /// in the hot tail and from the segments otherwise (on the calling thread).
    func read(from offset: UInt64, maxCount: Int) throws -> [StoredRecord] {
        let from = max(offset, startOffset)
        guard from < durableOffset, maxCount > 0 else { return [] }
        let count = Int(min(UInt64(maxCount), durableOffset - from))
        let lowInMemory = max(tailLow, nextOffset > UInt64(tail.count) ? nextOffset - UInt64(tail.count) : 0)
        if from >= lowInMemory {
            var out: [StoredRecord] = []
            out.reserveCapacity(count)
            for o in from..<(from + UInt64(count)) {
                guard let r = tail[Int(o % UInt64(tail.count))], r.offset == o else { break }
                out.append(r)
            }
            if out.count == count { return out }
        }
        var out = try readFromDisk(from: from, maxCount: count)
        if let last = out.last, last.offset >= durableOffset { out.removeAll { $0.offset >= durableOffset } }
        return out
    }

    /// The record at `offset`, if it is still retained.
    func record(at offset: UInt64) throws -> StoredRecord? {
        guard offset >= startOffset, offset < durableOffset else { return nil }
        guard let r = try read(from: offset, maxCount: 1).first, r.offset == offset else { return nil }
        return r
    }

    private func readFromDisk(from offset: UInt64, maxCount: Int) throws -> [StoredRecord] {
        var out: [StoredRecord] = []
        var at = offset
        for segment in segments where segment.endOffset > at && out.count < maxCount {
            if at < segment.baseOffset { at = segment.baseOffset }
            let part = try segment.read(from: at, maxCount: maxCount - out.count)
            out.append(contentsOf: part)
            at = segment.endOffset
        }
        return out
    }

    /// Deletes closed segments whose records are all below `committed` and whose newest record
    /// is older than `cutoff` (ns since the epoch) or, with `maxBytes` > 0, while the partition
    /// is larger than that. Returns how many were deleted.
    @discardableResult
    func deleteSegments(below committed: UInt64, newestBefore cutoff: Int64, maxBytes: Int = 0) -> Int {
        var deleted = 0
        while segments.count > 1, let first = segments.first, first.endOffset <= committed,
              first.lastTimestamp <= cutoff || (maxBytes > 0 && byteSize > maxBytes) {
            first.deleted = true  // unlinked when the last reference (maybe the flusher's) goes
            segments.removeFirst()
            deleted += 1
        }
        if deleted > 0 {
            logger.debug("deleted acked segments", metadata: ["dir": "\(directory)", "count": "\(deleted)"])
        }
        return deleted
    }
}
