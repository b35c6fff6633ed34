import ArgumentParser
import TSDB

struct FlushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flush",
        abstract: "Seal the head into blocks, compact and apply retention, so stats measures the settled size.")

    @OptionGroup var storage: StorageOptions

    func run() async throws {
        let db = try await TSDB.open(try storage.tsdbOptions())
        let r = try await db.flush()
        try await db.close()
        print("sealed \(r.samplesSealed) samples into \(r.blocksWritten) block(s); compacted \(r.blocksCompacted) block(s); retention deleted \(r.blocksDeletedByRetention)")
    }
}
