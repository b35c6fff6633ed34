import Foundation
import Primitives
import TSDB

/// One broker message on its way out: a DCGM CSV document and its row count.
struct OutgoingMessage: Sendable {
    var payload: [UInt8]
    var rows: Int
}

/// Groups parsed rows by partition into DCGM CSV documents of `batchRows` rows, copying each
/// row's raw fields (no strings built per row); only a rewritten timestamp is formatted.
struct PayloadBatcher {
    let partitions: Int
    let batchRows: Int
    private var buffers: [[UInt8]]
    private var counts: [Int]
    private static let header = Array(DCGMCSVWriter.header.utf8)

    init(partitions: Int, batchRows: Int) {
        self.partitions = partitions
        self.batchRows = batchRows
        self.buffers = Array(repeating: [], count: partitions)
        self.counts = Array(repeating: 0, count: partitions)
    }

    /// The partition of a row: xxHash64 of its UUID bytes mod partitions (as ``Partitioner``).
    func partition(of row: borrowing DCGMRow) -> Int {
        Int(XXHash64.hash(row.raw(4)) % UInt64(partitions))
    }

    /// Appends a row (with `timestamp` replacing its own when given); returns a full message.
    mutating func add(_ row: borrowing DCGMRow, timestamp: Int64?) -> (partition: Int, message: OutgoingMessage)? {
        let p = partition(of: row)
        if buffers[p].isEmpty {
            buffers[p].reserveCapacity(batchRows * 400 + 256)
            buffers[p].append(contentsOf: Self.header)
        }
        if timestamp == nil, let line = Self.rawLine(row) {
            buffers[p].append(contentsOf: line)
            buffers[p].append(UInt8(ascii: "\n"))
        } else {
            Self.encode(row, timestamp: timestamp, into: &buffers[p])
        }
        counts[p] += 1
        guard counts[p] >= batchRows else { return nil }
        return take(p)
    }

    private mutating func take(_ p: Int) -> (partition: Int, message: OutgoingMessage) {
        let out = (p, OutgoingMessage(payload: buffers[p], rows: counts[p]))
        buffers[p] = []
        counts[p] = 0
        return out
    }

    /// Every partial message, emptying the buffers.
    mutating func drain() -> [(partition: Int, message: OutgoingMessage)] {
        var out: [(partition: Int, message: OutgoingMessage)] = []
        for p in 0..<partitions where counts[p] > 0 { out.append(take(p)) }
        return out
    }

    var pendingRows: Int { counts.reduce(0, +) }

    /// The row's bytes as read (quotes included, no line break) when its columns are exactly
    /// ``DCGMCSVParser/columns`` in order: then one copy replaces twelve field copies.
    static func rawLine(_ row: borrowing DCGMRow) -> UnsafeRawBufferPointer? {
        guard row.fields.count == 12, row.map.count == 12 else { return nil }
        for k in 0..<12 where row.map[k] != k { return nil }
        let buffer = row.buffer
        var start = row.fields[0].start
        var end = row.fields[11].end
        if start > 0 && buffer[start - 1] == UInt8(ascii: "\"") { start -= 1 }
        if end < buffer.count && buffer[end] == UInt8(ascii: "\"") { end += 1 }
        guard start <= end else { return nil }
        return UnsafeRawBufferPointer(rebasing: buffer[start..<end])
    }

    /// `"f0","f1",…,"f11"\n` in ``DCGMCSVParser/columns`` order; raw fields keep their doubled quotes.
    static func encode(_ row: borrowing DCGMRow, timestamp: Int64?, into out: inout [UInt8]) {
        for k in 0..<12 {
            if k > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "\""))
            if k == 0, let timestamp {
                out.append(contentsOf: RFC3339.format(timestamp).utf8)
            } else {
                out.append(contentsOf: row.raw(k))
            }
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: "\n"))
    }
}

/// Spaces sends so that on average at most `rate` rows per second go out (nil: unlimited).
struct RateLimiter {
    let rate: Double?
    private var start: ContinuousClock.Instant?
    private var sent = 0.0

    init(rate: Double?) { self.rate = rate }

    mutating func acquire(_ rows: Int) async throws {
        guard let rate, rows > 0 else { return }
        let now = ContinuousClock.now
        let origin = start ?? now
        start = origin
        let due = origin + .nanoseconds(Int64(sent / rate * 1e9))
        sent += Double(rows)
        if due > now { try await Task.sleep(until: due, clock: .continuous) }
    }
}

/// The CSV files named by the streamer's inputs: files as given, directories as their `*.csv`
/// files sorted by name.
enum InputFiles {
    static func expand(_ inputs: [String]) throws(PipelineConfigError) -> [String] {
        var files: [String] = []
        let fm = FileManager.default
        for input in inputs {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: input, isDirectory: &isDir) else {
                throw .invalid("input \"\(input)\" does not exist")
            }
            if isDir.boolValue {
                let names = ((try? fm.contentsOfDirectory(atPath: input)) ?? [])
                    .filter { $0.lowercased().hasSuffix(".csv") }.sorted()
                if names.isEmpty { throw .invalid("directory \"\(input)\" has no .csv files") }
                files += names.map { (input as NSString).appendingPathComponent($0) }
            } else {
                files.append(input)
            }
        }
        return files
    }
}

/// Wall-clock time in nanoseconds since the epoch.
func wallClockNanos() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}
