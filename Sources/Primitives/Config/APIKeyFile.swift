import Foundation

/// Credential lists as files and variables hold them: a file has one key per line (or
/// comma-separated), `#` lines are comments; a variable is comma-separated. Blanks around
/// keys are trimmed and empty entries dropped.
package enum APIKeyFile {
    package static func read(_ path: String) throws(APIKeyFileError) -> [String] {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw .unreadable(path)
        }
        return parseList(text.split(whereSeparator: \.isNewline).filter { !$0.hasPrefix("#") }.joined(separator: ","))
    }

    /// Splits a comma-separated list, trimming blanks.
    package static func parseList(_ text: String) -> [String] {
        text.split(separator: ",").map { String($0).trimmingWhitespace() }.filter { !$0.isEmpty }
    }
}

/// A key file that could not be read.
package enum APIKeyFileError: Error, Sendable, Equatable, CustomStringConvertible {
    case unreadable(String)

    package var description: String {
        switch self {
        case .unreadable(let path): return "cannot read the API key file \(path) (it must exist, be readable and be UTF-8)"
        }
    }
}
