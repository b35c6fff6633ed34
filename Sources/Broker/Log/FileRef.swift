#if canImport(Glibc)
import Glibc
#endif

/// An open file descriptor that closes when the last reference goes, so the flusher can
/// still `fsync` a file its owner has already replaced.
final class FileRef: Syncable, @unchecked Sendable {
    let fd: Int32
    let path: String
    let syncGate: SyncGate
    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
        self.syncGate = SyncGate(label: "broker-fsync")
    }
    deinit { close(fd) }
    func sync() -> Int32 { fsync(fd) == 0 ? 0 : errno }
}
