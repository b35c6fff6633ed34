import Foundation
import Primitives
import Testing

@Suite("Directory lock")
struct DirectoryLockTests {
    private func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("lock-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test("a second lock on the same directory is refused, naming the holder, until the first is released")
    func exclusive() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var first: DirectoryLock? = try DirectoryLock(directory: dir, fileName: "LOCK")
        #expect(first != nil)
        do {
            _ = try DirectoryLock(directory: dir, fileName: "LOCK")
            Issue.record("the second lock was granted")
        } catch {
            #expect(error == .busy(directory: dir, holder: String(getpid())))
            #expect(error.description.contains("in use by another telemetry process (pid \(getpid()))"))
        }
        // Another lock file in the same directory is a different lock.
        _ = try DirectoryLock(directory: dir, fileName: ".lock")
        first?.release()
        let again = try DirectoryLock(directory: dir, fileName: "LOCK")
        #expect(again.path == dir + "/LOCK")
        again.release()
        first = nil
        _ = try DirectoryLock(directory: dir, fileName: "LOCK")
    }

    @Test("a directory that does not exist is a clear error")
    func missingDirectory() {
        #expect(throws: DirectoryLockError.self) { try DirectoryLock(directory: "/nonexistent-\(UUID().uuidString)", fileName: "LOCK") }
    }
}
