import ArgumentParser
import TSDB

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Verify every checksum and the catalog against the blocks; exit 0 only when clean.",
        discussion: "Reads without changing anything (a torn WAL tail is reported, not repaired; opening the database repairs it).")

    @Option(name: .customLong("data-dir"), help: "Data directory (env DATA_DIR).")
    var dataDir: String = Env.string("DATA_DIR", "./data")

    func run() async throws {
        let r = try TSDB.check(directory: dataDir)
        print("checked \(r.blocksChecked) blocks, \(r.chunksChecked) chunks, \(r.walSegmentsChecked) WAL segments, \(r.seriesInCatalog) series")
        for p in r.problems { print("problem: \(p)") }
        if r.isClean {
            print("clean")
        } else {
            print("\(r.problems.count) problem(s)")
            throw ExitCode(1)
        }
    }
}
