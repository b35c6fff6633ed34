import ArgumentParser
import Primitives

/// `--fsync` (env FSYNC, default batch) of the roles that write to disk: broker, collector
/// with `--data-dir`, api and run. (The storage commands take theirs in ``StorageOptions``.)
struct FsyncOption: ParsableArguments {
    @Option(help: "fsync policy of what this role writes: always, batch (group commit) or none (env FSYNC).")
    var fsync: String = Env.string("FSYNC", "batch")

    func policy() throws -> FsyncPolicy {
        guard let policy = FsyncPolicy(rawValue: fsync) else { throw ValidationError("--fsync \(fsync) is not always, batch or none") }
        return policy
    }
}
