import Foundation
import Primitives
import Testing

@Suite("Durable files")
struct DurableFileTests {
    @Test("writes land whole; exclusive refuses an existing file; syncing a missing directory fails clearly")
    func writeAndSync() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("durable-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/file"
        let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0) }
        try DurableFile.write(path, bytes)
        try DurableFile.syncDirectory(dir)
        #expect(FileManager.default.contents(atPath: path).map { [UInt8]($0) } == bytes)
        try DurableFile.write(path, [1, 2, 3])
        #expect(FileManager.default.contents(atPath: path).map { [UInt8]($0) } == [1, 2, 3])
        #expect(throws: DurableFileError.self) { try DurableFile.write(path, [9], mode: 0o600, exclusive: true) }
        let secret = dir + "/secret"
        try DurableFile.write(secret, [7], mode: 0o600, exclusive: true)
        let mode = try FileManager.default.attributesOfItem(atPath: secret)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        do {
            try DurableFile.syncDirectory(dir + "/missing")
            Issue.record("syncing a missing directory succeeded")
        } catch {
            #expect(error.path == dir + "/missing")
            #expect(error.description.hasPrefix("cannot open \(dir)/missing"))
        }
    }
}
