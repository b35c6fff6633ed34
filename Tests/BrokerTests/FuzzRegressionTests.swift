import Foundation
import Primitives
import Testing

@testable import Broker
import TelemetryTestSupport

/// Inputs that crashed a broker decoder (found by the libFuzzer targets in Fuzz/ or while
/// writing them); each is also in Fuzz/corpus/<target>/ so the fuzz smoke replays it.
@Suite("Fuzz regressions: broker decoders")
struct BrokerFuzzRegressionTests {
    @Test("record ids with numbers too large for a partition or an offset are refused, not a trap")
    func hugeRecordIDs() {
        // The fuzz input (recordid/crash-b71f7e2e…): 19 partition digits overflowed Int.
        #expect(MessageBroker.parseID("9999999999999999999-1", partition: 0) == nil)
        #expect(MessageBroker.parseID("0-99999999999999999999", partition: 0) == nil)
        #expect(MessageBroker.parseID("0-18446744073709551616", partition: 0) == nil)
        // Offsets stop at Int64.max (RecordID.maxOffset): anything above is malformed, not a wrap.
        #expect(MessageBroker.parseID("0-18446744073709551615", partition: 0) == nil)
        #expect(MessageBroker.parseID("0-9223372036854775807", partition: 0) == RecordID.maxOffset)
        #expect(MessageBroker.parseID("000000003-7", partition: 3) == 7)
        #expect(MessageBroker.parseID("3-7", partition: 2) == nil)
    }

    static func frame(offset: UInt64, payload: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        RecordFrame.encode(offset: offset, timestamp: 1, payload: payload, into: &out)
        return out
    }

    @Test("a segment whose records reach the largest offset is refused, not a trap")
    func segmentAtLastOffset() throws {
        let tmp = TempDir("fuzz-segment")
        let dir = tmp.path
        for base in [UInt64.max, UInt64.max - 1, RecordID.maxOffset + 1] {
            var bytes: [UInt8] = []
            bytes.appendBE(Segment.magic); bytes.appendBE(Segment.version); bytes.appendBE(base)
            bytes += Self.frame(offset: base, payload: [1, 2, 3]) + Self.frame(offset: base &+ 1, payload: [4])
            let path = "\(dir)/\(Segment.fileName(baseOffset: base))"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            // A base offset past RecordID.maxOffset is corruption, reported with the file's name.
            #expect(throws: BrokerError.self) { _ = try Segment.open(path: path, logger: testLogger) }
        }
    }

    @Test("a group state acking the largest offset opens without a trap and ignores the entry")
    func groupStateAtLastOffset() throws {
        let tmp = TempDir("fuzz-group")
        let dir = tmp.path
        var bytes: [UInt8] = []
        bytes.appendBE(GroupStateFile.magic); bytes.appendBE(GroupStateFile.version)
        for (kind, offset) in [(GroupStateFile.Kind.base, UInt64.max), (.ack, UInt64.max)] {
            let start = bytes.count
            bytes.append(kind.rawValue)
            bytes.appendBE(offset)
            bytes.appendBE(bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[start...])) })
        }
        try Data(bytes).write(to: URL(fileURLWithPath: "\(dir)/\(GroupStateFile.fileName(group: "g"))"))
        let state = try GroupStateFile.open(directory: dir, group: "g", durable: false, logger: testLogger)
        // Entries past RecordID.maxOffset are ignored (and logged), so the group starts over.
        #expect(state.committed == 0)
    }
}
