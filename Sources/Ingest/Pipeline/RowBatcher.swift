import Foundation

/// Groups rows by partition into messages of `batchRows` rows.
struct RowBatcher {
    let partitioner: Partitioner
    let batchRows: Int
    private var buffers: [[DCGMRecord]]

    init(partitioner: Partitioner, batchRows: Int) {
        self.partitioner = partitioner
        self.batchRows = batchRows
        self.buffers = Array(repeating: [], count: partitioner.partitions)
    }

    /// Adds a row; returns a full message (and its partition) when one fills up.
    mutating func add(_ row: DCGMRecord) -> (partition: Int, rows: [DCGMRecord])? {
        let p = partitioner.partition(uuid: row.uuid)
        if buffers[p].isEmpty { buffers[p].reserveCapacity(batchRows) }
        buffers[p].append(row)
        guard buffers[p].count >= batchRows else { return nil }
        defer { buffers[p] = [] }
        return (p, buffers[p])
    }

    /// Every partial message, emptying the buffers.
    mutating func drain() -> [(partition: Int, rows: [DCGMRecord])] {
        var out: [(Int, [DCGMRecord])] = []
        for p in buffers.indices where !buffers[p].isEmpty {
            out.append((p, buffers[p]))
            buffers[p] = []
        }
        return out
    }

    var pendingRows: Int { buffers.reduce(0) { $0 + $1.count } }
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
