import Foundation
import Primitives

/// The API key of the embedded stack: `API_KEY` when given, else one generated on first start
/// and kept in `<data dir>/api-key` (mode 0600) so every later start reuses it.
enum RunAPIKey {
    struct Resolved {
        var keys: [String]
        /// Where the key lives when the stack generated or reused it (nil when it came from API_KEY).
        var file: String?
        /// True when this start created the file.
        var created: Bool
    }

    static let fileName = "api-key"

    static func resolve(given: [String], dataDir: String) throws -> Resolved {
        if !given.isEmpty { return Resolved(keys: given, file: nil, created: false) }
        let path = (dataDir as NSString).appendingPathComponent(fileName)
        if FileManager.default.fileExists(atPath: path) {
            // Tighten a key file someone loosened; it is a credential.
            if chmod(path, 0o600) != 0 {
                throw RunError("cannot set mode 0600 on \(path): \(String(cString: strerror(errno)))")
            }
            let keys: [String]
            do { keys = try APIKeyFile.read(path) } catch { throw RunError("cannot read the API key in \(path): \(error.description)") }
            guard !keys.isEmpty else {
                throw RunError("\(path) holds no key; delete it to have a new one generated, or set API_KEY")
            }
            return Resolved(keys: keys, file: path, created: false)
        }
        let key = generate()
        try writeNew(path: path, contents: key + "\n")
        return Resolved(keys: [key], file: path, created: true)
    }

    /// 32 random bytes from the system's CSPRNG as 64 hex digits.
    static func generate() -> String {
        var rng = SystemRandomNumberGenerator()
        var out = ""
        for _ in 0..<4 {
            let word = rng.next() as UInt64
            let hex = String(word, radix: 16)
            out += String(repeating: "0", count: 16 - hex.count) + hex
        }
        return out
    }

    /// Creates the file with mode 0600 from the start (never readable by others, even briefly)
    /// and fsyncs it, so a crash right after the banner cannot lose the printed key.
    static func writeNew(path: String, contents: String) throws {
        do { try DurableFile.write(path, Array(contents.utf8), mode: 0o600, exclusive: true) } catch { throw RunError(error.description) }
    }
}
