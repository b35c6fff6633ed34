import Foundation
import Primitives

/// Naming, listing and replaying WAL segment files (`wal/00000001` …). A segment starts with
/// the 8-byte header `TWAL` + u32 version 1, then records (see ``WALRecord``).
package enum WALSegments {
    static let magic: [UInt8] = Array("TWAL".utf8)
    static let version: UInt32 = 1
    static let headerSize = 8

    package static func name(_ index: Int) -> String { String(format: "%08d", index) }

    package static func header() -> [UInt8] {
        var h = magic
        h.appendFixed(version)
        return h
    }

    /// Segment indices present in `dir`, ascending.
    static func list(_ dir: String) -> [Int] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.compactMap { $0.count == 8 ? Int($0) : nil }.sorted()
    }

    /// Reads every segment in order, handing each good record's batch to `apply`. A torn or
    /// corrupt tail of the last segment is truncated (when `repair`); damage inside an older
    /// segment is reported and the rest of that segment skipped. Never throws for bad data.
    package static func replay(_ dir: String, repair: Bool, apply: (SampleBatch) throws -> Void) rethrows -> ReplayReport {
        var report = ReplayReport()
        let indices = list(dir)
        for (position, index) in indices.enumerated() {
            let path = "\(dir)/\(name(index))"
            let isLast = position == indices.count - 1
            report.segments += 1
            guard let bytes = try? FileBytes.read(path) else {
                report.problems.append("\(path): unreadable")
                continue
            }
            var goodEnd = 0
            var problem: String?
            if bytes.count < headerSize || Array(bytes[0..<4]) != magic {
                problem = bytes.isEmpty ? nil : "bad segment header"
            } else {
                let version = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 4, as: UInt32.self).littleEndian }
                if version != WALSegments.version {
                    problem = "unsupported WAL version \(version)"
                } else {
                    goodEnd = headerSize
                    var offset = headerSize
                    while offset < bytes.count {
                        guard bytes.count - offset >= WALRecord.headerSize else {
                            problem = "torn record header at offset \(offset)"
                            break
                        }
                        let (length, crc) = bytes.withUnsafeBytes {
                            (Int($0.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian),
                             $0.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self).littleEndian)
                        }
                        let bodyStart = offset + WALRecord.headerSize
                        guard length > 0, length <= WALRecord.maxBodySize, bodyStart + length <= bytes.count else {
                            problem = length == 0 ? "zeroed record at offset \(offset)" : "torn record at offset \(offset) (\(length) bytes announced)"
                            break
                        }
                        let batch: SampleBatch? = bytes.withUnsafeBytes { raw in
                            let body = UnsafeRawBufferPointer(rebasing: raw[bodyStart..<(bodyStart + length)])
                            guard CRC32C.checksum(body) == crc else { return nil }
                            return try? WALRecord.decode(body: body)
                        }
                        guard let batch else {
                            problem = "corrupt record at offset \(offset) (checksum or format)"
                            break
                        }
                        try apply(batch)
                        report.records += 1
                        report.samples += batch.count
                        offset = bodyStart + length
                        goodEnd = offset
                    }
                }
            }
            if let problem {
                let cut = Int64(bytes.count - goodEnd)
                if isLast {
                    report.truncatedBytes += cut
                    report.problems.append("\(path): \(problem); \(cut) bytes cut from the tail")
                    if repair { truncate(path, to: goodEnd) }
                } else {
                    report.problems.append("\(path): \(problem); the remaining \(cut) bytes of this segment were skipped")
                }
            }
        }
        return report
    }

    static func truncate(_ path: String, to length: Int) {
        let fd = open(path, O_WRONLY)
        guard fd >= 0 else { return }
        if length < headerSize {
            _ = ftruncate(fd, 0)
            _ = header().withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        } else {
            _ = ftruncate(fd, off_t(length))
        }
        _ = fsync(fd)
        close(fd)
    }
}
