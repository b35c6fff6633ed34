import Foundation
import TelemetryTestSupport
import Testing

/// The shipped `telemetry` binary carries no test tools: the crash tests' writer is the
/// separate test-only executable `telemetry-debug-append`.
@Suite("Shipped binary")
struct ShippedBinaryTests {
    @Test("`telemetry debug-append` is no subcommand; the test-only writer is its own executable")
    func noTestToolsInTheBinary() async throws {
        let dir = TempDir("shipped")
        let child = try ChildProcess.start("telemetry", TestPaths.telemetry, ["debug-append", "--data-dir", dir.path, "--batches", "1"])
        let status = await child.wait(timeout: .seconds(30))
        #expect(status != 0, "telemetry debug-append ran: \(child.log)")
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/wal"), "telemetry debug-append wrote a database")

        let writer = try ChildProcess.start("writer", TestPaths.debugAppend, ["--data-dir", dir.path, "--batches", "2", "--series", "2", "--samples", "5"])
        #expect(await writer.wait(timeout: .seconds(60)) == 0, "\(writer.log)")
        #expect(writer.log.contains("ack 0") && writer.log.contains("ack 1"), "\(writer.log)")
    }
}
