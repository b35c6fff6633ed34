import Foundation
import Primitives
import TSDB

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
