#if canImport(Glibc)
import Glibc
#endif

/// One fuzz target: a name for `FUZZ_TARGET` and the harness that feeds one input to a real
/// decoder. A harness must never trap on any input; where a cheap invariant exists (a decoded
/// column re-encodes to the same values, a streamed parse equals a whole one) it checks it with
/// ``require(_:_:)``, which turns a violation into a crash libFuzzer records.
struct FuzzTarget: Sendable {
    let name: String
    let run: @Sendable (UnsafeRawBufferPointer) -> Void
}

/// Every harness, by `FUZZ_TARGET` name (scripts/fuzz.sh runs them all).
enum FuzzTargets {
    static let all: [FuzzTarget] = [
        FuzzTarget(name: "csv", run: IngestHarnesses.csv),
        FuzzTarget(name: "lineprotocol", run: IngestHarnesses.lineProtocol),
        FuzzTarget(name: "json", run: IngestHarnesses.json),
        FuzzTarget(name: "prometheus", run: IngestHarnesses.prometheus),
        FuzzTarget(name: "time", run: TimeHarnesses.times),
        FuzzTarget(name: "duration", run: TimeHarnesses.durations),
        FuzzTarget(name: "query", run: QueryHarnesses.query),
        FuzzTarget(name: "inflate", run: BodyHarnesses.inflate),
        FuzzTarget(name: "snappy", run: RemoteWriteHarnesses.snappy),
        FuzzTarget(name: "remotewrite", run: RemoteWriteHarnesses.writeRequest),
        FuzzTarget(name: "timestamps", run: CodecHarnesses.timestamps),
        FuzzTarget(name: "values", run: CodecHarnesses.values),
        FuzzTarget(name: "column", run: CodecHarnesses.column),
        FuzzTarget(name: "wal", run: StorageHarnesses.wal),
        FuzzTarget(name: "blockindex", run: StorageHarnesses.blockIndex),
        FuzzTarget(name: "block", run: StorageHarnesses.block),
        FuzzTarget(name: "segment", run: BrokerHarnesses.segment),
        FuzzTarget(name: "groupstate", run: BrokerHarnesses.groupState),
        FuzzTarget(name: "recordid", run: BrokerHarnesses.recordID),
        FuzzTarget(name: "recordframes", run: BrokerHarnesses.recordFrames),
    ]
}

/// Fails the run (libFuzzer saves the input as a crash) when an invariant does not hold.
func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    guard !condition else { return }
    say("invariant violated: \(message())\n")
    abort()
}

/// Splits an input at a position chosen by its first byte (for two-part harnesses).
func split(_ bytes: UnsafeRawBufferPointer) -> (selector: UInt8, rest: UnsafeRawBufferPointer) {
    guard let first = bytes.first else { return (0, bytes) }
    return (first, UnsafeRawBufferPointer(rebasing: bytes[1...]))
}

/// Same value, comparing Doubles by bit pattern (NaN equals itself, -0 differs from 0).
func sameBits(_ a: Double, _ b: Double) -> Bool { a.bitPattern == b.bitPattern }
