import Foundation

/// A fresh directory under the system temp dir, removed when the last reference goes.
///
/// ```swift
/// let dir = TempDir("crash")
/// try write(into: dir.path)
/// ```
package final class TempDir: Sendable {
    package let path: String

    package init(_ name: String = "test") {
        path = NSTemporaryDirectory() + "/\(name)-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
