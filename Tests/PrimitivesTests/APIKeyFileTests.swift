import Foundation
import Primitives
import Testing

@Suite("API key files")
struct APIKeyFileTests {
    @Test("one key a line or comma-separated, comments and blanks dropped; a missing file is a clear error")
    func keyFileAndLists() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID().uuidString)").path
        try "# rotation\nk1\n\n k2 , k3\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try APIKeyFile.read(path) == ["k1", "k2", "k3"])
        #expect(APIKeyFile.parseList(" a,, b ,") == ["a", "b"])
        #expect(throws: APIKeyFileError.unreadable(path + ".missing")) { try APIKeyFile.read(path + ".missing") }
    }
}
