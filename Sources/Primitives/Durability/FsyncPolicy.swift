/// When a write is durable. `batch` (the default) groups every write that arrives while one
/// fsync runs into the next fsync; `always` fsyncs each write on its own; `none` leaves
/// flushing to the kernel (a `kill -9` keeps the data, a power loss may not).
///
/// The TSDB's WAL and the broker's segment logs honour the same three policies.
public enum FsyncPolicy: String, Sendable, CaseIterable, Codable {
    case always, batch, none
}
