import Primitives

/// An exclusive lock on the data directory for the life of the process, so a second
/// `telemetry run` on the same directory fails at once instead of writing beside the first.
enum DataDirLock {
    static func acquire(directory: String) throws -> DirectoryLock {
        do { return try DirectoryLock(directory: directory, fileName: ".lock") } catch { throw RunError(error.description) }
    }
}
