import Foundation

extension TSDB {
    /// Verifies a data directory without changing it: every block's index and chunk
    /// checksums (and that every chunk decodes to its announced count), the block registry
    /// against the directories, block series against the catalog, and every WAL record.
    /// The report is clean only when nothing is wrong.
    public static func check(directory: String) throws -> CheckReport {
        var report = CheckReport()
        let fm = FileManager.default
        let catalogPath = catalogPath(directory)
        guard fm.fileExists(atPath: catalogPath) else {
            report.problems.append("\(catalogPath): no catalog; is this a data directory?")
            return report
        }
        let catalog = try Catalog(path: catalogPath, fsync: .none, readOnly: true)
        defer { try? catalog.close() }
        let series = try catalog.allSeries()
        report.seriesInCatalog = series.count
        var known = Set<UInt32>()
        for (id, labels) in series {
            known.insert(id)
            if labels == nil { report.problems.append("catalog: series \(id) has malformed labels") }
        }
        let blocksDir = "\(directory)/blocks"
        // Blocks unregistered and recorded for deletion are finished on the next open.
        let pending = Set(try catalog.pendingDeletions())
        let onDisk = Set(((try? fm.contentsOfDirectory(atPath: blocksDir)) ?? []).filter { !$0.hasPrefix(".") && !pending.contains($0) })
        var registered = try catalog.blocks()
        for name in onDisk.subtracting(registered.map(\.id)).sorted() {
            // A complete block a crash left unregistered (seal killed before the catalog
            // insert) is adopted on the next open: verify it like a registered one.
            if let data = fm.contents(atPath: "\(blocksDir)/\(name)/\(BlockFormat.metaFile)"),
               let meta = try? JSONDecoder().decode(BlockFormat.Meta.self, from: data), meta.id == name {
                registered.append(BlockRecord(id: meta.id, minTime: meta.minTime, maxTime: meta.maxTime, samples: meta.samples,
                                              series: meta.series, chunks: meta.chunks, bytes: 0, priority: meta.priority, level: meta.level))
                continue
            }
            report.problems.append("blocks/\(name): on disk but not registered in the catalog, and not a complete block")
        }
        var ts: [Int64] = [], vs: [Double] = [], scratch: [UInt8] = []
        for record in registered {
            guard onDisk.contains(record.id) else {
                report.problems.append("blocks/\(record.id): registered but missing on disk")
                continue
            }
            report.blocksChecked += 1
            do {
                let block = try Block(path: "\(blocksDir)/\(record.id)", record: record)
                var samples = 0
                for id in block.seriesIDs {
                    if !known.contains(id) { report.problems.append("blocks/\(record.id): series \(id) is not in the catalog") }
                    for meta in block.chunks(of: id) {
                        report.chunksChecked += 1
                        do {
                            try block.decode(meta, timestamps: &ts, values: &vs, scratch: &scratch)
                            samples += meta.count
                            if meta.count > 0, ts[0] != meta.minTime || ts[meta.count - 1] != meta.maxTime {
                                report.problems.append("blocks/\(record.id): series \(id) chunk time range disagrees with its index")
                            }
                        } catch {
                            report.problems.append("blocks/\(record.id): series \(id): \(error)")
                        }
                    }
                }
                if samples != record.samples {
                    report.problems.append("blocks/\(record.id): holds \(samples) samples, the catalog says \(record.samples)")
                }
            } catch {
                report.problems.append("blocks/\(record.id): \(error)")
            }
        }
        let wal = WALSegments.replay("\(directory)/wal", repair: false) { batch in
            for id in batch.refs where !known.contains(id) {
                report.problems.append("wal: sample for series \(id), which is not in the catalog")
                break
            }
        }
        report.walSegmentsChecked = wal.segments
        report.problems.append(contentsOf: wal.problems.map { "wal: \($0)" })
        return report
    }
}
