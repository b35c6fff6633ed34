import ArgumentParser
import Foundation
import Ingest
import TSDB

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import DCGM CSV files into a data directory, keeping their original timestamps.",
        discussion: """
            Progress goes to stderr, a summary to stdout. Bad rows are counted and reported with \
            their line numbers (the first \(DCGMParseStats.maxProblems) per file); --strict stops at the \
            first one. Exits non-zero when a file cannot be read or --strict stops. The import is \
            durable when it exits 0 (unless --fsync is given, batches are not fsynced one by one; \
            the final seal or WAL close is); an interrupted import can simply be run again.
            """)

    @OptionGroup var storage: StorageOptions

    @Flag(help: "Stop at the first bad row.")
    var strict = false

    @Flag(name: .customLong("no-flush"), help: "Leave the imported samples in the head and WAL instead of sealing them into a block.")
    var noFlush = false

    @Flag(help: "No progress output.")
    var quiet = false

    @Argument(help: "DCGM CSV files.")
    var files: [String]

    func run() async throws {
        // A bulk import is acknowledged when it exits: its last step seals the data into a
        // block (fsynced) or, with --no-flush, closes the WAL (fsynced). Per-batch fsyncs
        // would only slow it down, so the default policy here is none.
        // The per-request bound on new series guards a server from one hostile request; an
        // import's batches are its own cut of a file the operator chose, and the first
        // batches of a 16,000-GPU fleet's export create far more than 100,000 series.
        var seriesDefaults = SeriesLimits()
        seriesDefaults.maxNewSeriesPerRequest = nil
        let db = try await TSDB.open(try storage.tsdbOptions(defaultFsync: .none, seriesDefaults: seriesDefaults))
        var failure: Error?
        let started = Date()
        var totals = DCGMImporter.Summary()
        let importer = DCGMImporter(db: db)
        for path in files {
            let fileStart = Date()
            var lastReport = Date.distantPast
            do {
                let s = try await importer.importFile(path: path, strict: strict) { p in
                    guard !quiet, Date().timeIntervalSince(lastReport) >= 1 else { return }
                    lastReport = Date()
                    let pct = p.totalBytes > 0 ? Double(p.bytesRead) * 100 / Double(p.totalBytes) : 0
                    let rate = Double(p.samples) / max(Date().timeIntervalSince(fileStart), 1e-9)
                    FileHandle.standardError.write(Data(String(format: "\r%@: %5.1f%%  %d rows  %.0f samples/s   ", p.path, pct, p.rows, rate).utf8))
                }
                if !quiet { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
                let secs = Date().timeIntervalSince(fileStart)
                print("\(path): \(s.stats.rows) rows, \(s.appended) samples imported, \(s.newSeries) new series, "
                      + "\(s.stats.blankSkipped) blank values skipped, \(s.stats.badRows) bad rows, "
                      + "\(s.outOfWindow) outside the out-of-order window, "
                      + "\(s.tooFarInFuture) too far ahead of the clock (--max-future); \(String(format: "%.2f", secs)) s, "
                      + "\(String(format: "%.0f", Double(s.appended) / max(secs, 1e-9))) samples/s")
                for p in s.stats.problems { print("  \(path): \(p)") }
                if s.stats.badRows > s.stats.problems.count {
                    print("  … and \(s.stats.badRows - s.stats.problems.count) more bad rows")
                }
                totals.appended += s.appended
                totals.newSeries += s.newSeries
                totals.stats.rows += s.stats.rows
                totals.stats.badRows += s.stats.badRows
            } catch {
                if !quiet { FileHandle.standardError.write(Data("\n".utf8)) }
                failure = error
                FileHandle.standardError.write(Data("error: \(path): \(error)\n".utf8))
                if strict { break }
            }
        }
        if !noFlush {
            let f = try await db.flush()
            if f.samplesSealed > 0 { print("sealed \(f.samplesSealed) samples into a block") }
        }
        try await db.close()
        if files.count > 1 {
            let secs = Date().timeIntervalSince(started)
            print("total: \(totals.stats.rows) rows, \(totals.appended) samples, \(totals.newSeries) new series, \(totals.stats.badRows) bad rows in \(String(format: "%.2f", secs)) s")
        }
        if failure != nil { throw ExitCode(1) }
    }
}
