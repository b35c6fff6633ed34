import Foundation

extension TSDB {
    /// Series, samples, time range and bytes on disk (blocks, WAL, catalog).
    public func stats() throws -> DatabaseStats {
        let (series, head, frozen, blocks) = try state.withLock { s in
            guard !s.closed else { throw TSDBError.closed }
            return (s.index.count, s.head, s.frozen, s.blocks)
        }
        var minT = Int64.max, maxT = Int64.min
        var samples = head.samples + frozen.reduce(0) { $0 + $1.head.samples }
        for h in [head] + frozen.map(\.head) where !h.isEmpty {
            minT = min(minT, h.minTime)
            maxT = max(maxT, h.maxTime)
        }
        for b in blocks {
            samples += b.record.samples
            minT = min(minT, b.record.minTime)
            maxT = max(maxT, b.record.maxTime)
        }
        let dir = options.directory
        return DatabaseStats(
            series: series, samples: samples, headSamples: head.samples, blocks: blocks.count,
            minTime: minT == Int64.max ? nil : minT, maxTime: maxT == Int64.min ? nil : maxT,
            bytesBlocks: Self.allocatedBytes("\(dir)/blocks"), bytesWAL: Self.allocatedBytes("\(dir)/wal"),
            bytesCatalog: ["", "-wal", "-shm"].reduce(0) { $0 + Self.allocatedBytes(Self.catalogPath(dir) + $1) })
    }

    /// Space allocated on disk (like `du`), for a file or a directory tree.
    static func allocatedBytes(_ path: String) -> Int64 {
        var st = stat()
        guard lstat(path, &st) == 0 else { return 0 }
        var total = Int64(st.st_blocks) * 512
        if (st.st_mode & S_IFMT) == S_IFDIR {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
                total += allocatedBytes("\(path)/\(name)")
            }
        }
        return total
    }
}
