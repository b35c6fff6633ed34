import Foundation
import Primitives

/// The write-ahead log: appends records to segment files on one writer thread and makes
/// them durable by group commit. Callers enqueue under their own ordering lock (so the WAL
/// order is the apply order), then await durability outside it.
///
/// - `always`: every record is written and fsynced on its own before its writer resumes.
/// - `batch`: everything that queued up while the previous fsync ran is written and
///   fsynced once (group commit); writers resume after that fsync.
/// - `none`: writers resume after `write(2)`; the kernel flushes later.
final class WAL: @unchecked Sendable {
    let directory: String
    let policy: FsyncPolicy
    let segmentLimit: Int
    private let onFsync: @Sendable (Double) -> Void

    private enum Item { case record([UInt8]), rotate(Int) }

    // Guarded by `cond`.
    private let cond = NSCondition()
    private var items: [Item] = []
    private var enqueuedSeq: UInt64 = 0
    private var durableSeq: UInt64 = 0
    private var waiters: [(seq: UInt64, continuation: CheckedContinuation<Void, Error>)] = []
    private var failure: TSDBError?
    private var closing = false
    private var plannedSegment: Int
    private var plannedBytes: Int

    // Writer thread only.
    private var fd: Int32 = -1
    private var currentSegment: Int
    private var thread: Thread?
    private let finished = DispatchSemaphore(value: 0)

    init(directory: String, policy: FsyncPolicy, segmentLimit: Int = 64 << 20, onFsync: @escaping @Sendable (Double) -> Void = { _ in }) throws {
        self.directory = directory
        self.policy = policy
        self.segmentLimit = segmentLimit
        self.onFsync = onFsync
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // Always start a fresh segment: replay may have truncated the old last one.
        let next = (WALSegments.list(directory).last ?? 0) + 1
        currentSegment = next
        plannedSegment = next
        plannedBytes = WALSegments.headerSize
        fd = try Self.create(segment: next, in: directory)
        // The thread holds the WAL until `close()` ends it. An unowned capture crashed the
        // process ("read an unowned reference but object … was already destroyed") when an
        // engine was released before its writer thread first ran, which a loaded machine makes
        // likely for a short-lived engine.
        let t = Thread { self.run() }
        t.name = "tsdb-wal"
        thread = t
        t.start()
    }

    private static func create(segment: Int, in dir: String) throws -> Int32 {
        let path = "\(dir)/\(WALSegments.name(segment))"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw TSDBError.io(path: path, message: String(cString: strerror(errno))) }
        let header = WALSegments.header()
        let ok = header.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == header.count
        guard ok, fsync(fd) == 0 else {
            Foundation.close(fd)
            throw TSDBError.io(path: path, message: String(cString: strerror(errno)))
        }
        try? DurableFile.syncDirectory(dir)
        return fd
    }

    /// Queues a record; returns its sequence number for ``waitDurable(_:)``.
    func enqueue(_ record: [UInt8]) throws -> UInt64 {
        cond.lock()
        defer { cond.unlock() }
        if let failure { throw failure }
        guard !closing else { throw TSDBError.closed }
        if plannedBytes + record.count > segmentLimit && plannedBytes > WALSegments.headerSize {
            plannedSegment += 1
            plannedBytes = WALSegments.headerSize
            items.append(.rotate(plannedSegment))
        }
        plannedBytes += record.count
        items.append(.record(record))
        enqueuedSeq += 1
        cond.signal()
        return enqueuedSeq
    }

    /// Starts a new segment for everything enqueued after this call; returns its index, so
    /// every older segment can be deleted once the data enqueued before is safe elsewhere.
    func rotate() -> Int {
        cond.lock()
        defer { cond.unlock() }
        plannedSegment += 1
        plannedBytes = WALSegments.headerSize
        items.append(.rotate(plannedSegment))
        cond.signal()
        return plannedSegment
    }

    func waitDurable(_ seq: UInt64) async throws {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, Error>) in
            cond.lock()
            if durableSeq >= seq {
                cond.unlock()
                c.resume()
            } else if let failure {
                cond.unlock()
                c.resume(throwing: failure)
            } else {
                waiters.append((seq, c))
                cond.unlock()
            }
        }
    }

    /// Deletes segments older than `index`.
    func removeSegments(before index: Int) {
        for i in WALSegments.list(directory) where i < index {
            unlink("\(directory)/\(WALSegments.name(i))")
        }
    }

    /// Writes and syncs what is queued, then stops the writer thread.
    func close() {
        cond.lock()
        let already = closing
        closing = true
        cond.signal()
        cond.unlock()
        if !already { finished.wait() }
    }

    private func run() {
        while true {
            cond.lock()
            while items.isEmpty && !closing { cond.wait() }
            if items.isEmpty && closing {
                cond.unlock()
                break
            }
            let batch = items
            items.removeAll(keepingCapacity: true)
            let upTo = enqueuedSeq
            let firstSeq = upTo - UInt64(batch.reduce(0) { if case .record = $1 { return $0 + 1 }; return $0 })
            cond.unlock()

            var seq = firstSeq
            var error: TSDBError?
            for item in batch {
                switch item {
                case .rotate(let next):
                    if error == nil { error = syncCurrent() ?? openSegment(next) }
                case .record(let bytes):
                    if error == nil { error = writeAll(bytes) }
                    seq += 1
                    if policy == .always, error == nil {
                        error = syncCurrent()
                        if error == nil { complete(upTo: seq) }
                    }
                }
            }
            if error == nil, policy == .batch { error = syncCurrent() }
            if let error { fail(error) } else { complete(upTo: upTo) }
        }
        _ = syncCurrent()
        if fd >= 0 { Foundation.close(fd); fd = -1 }
        finished.signal()
    }

    private var currentPath: String { "\(directory)/\(WALSegments.name(currentSegment))" }

    private func writeAll(_ bytes: [UInt8]) -> TSDBError? {
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                return .io(path: currentPath, message: "write failed: \(String(cString: strerror(errno)))")
            }
            written += n
        }
        return nil
    }

    private func syncCurrent() -> TSDBError? {
        let start = DispatchTime.now().uptimeNanoseconds
        guard fdatasync(fd) == 0 else { return .io(path: currentPath, message: "fsync failed: \(String(cString: strerror(errno)))") }
        onFsync(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        return nil
    }

    private func openSegment(_ index: Int) -> TSDBError? {
        Foundation.close(fd)
        do {
            fd = try Self.create(segment: index, in: directory)
            currentSegment = index
            return nil
        } catch let e as TSDBError {
            return e
        } catch {
            return .io(path: directory, message: "\(error)")
        }
    }

    private func complete(upTo seq: UInt64) {
        cond.lock()
        durableSeq = max(durableSeq, seq)
        var ready: [CheckedContinuation<Void, Error>] = []
        waiters.removeAll { w in
            if w.seq <= seq { ready.append(w.continuation); return true }
            return false
        }
        cond.unlock()
        for c in ready { c.resume() }
    }

    /// A failed write or fsync leaves the log in an unknown state: every pending and future
    /// write fails until the database is reopened (and replays what did reach the disk).
    private func fail(_ error: TSDBError) {
        cond.lock()
        failure = error
        let all = waiters.map(\.continuation)
        waiters.removeAll()
        cond.unlock()
        for c in all { c.resume(throwing: error) }
    }
}
