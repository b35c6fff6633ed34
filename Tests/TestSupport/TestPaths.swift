import Foundation

/// Where the repository, its DCGM sample and the executables `swift build --build-tests` made
/// are, found from this file's path (Tests/TestSupport/<file>), so a test works from any
/// working directory.
package enum TestPaths {
    package static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `.build/debug/<name>`: `telemetry`, or the test-only `telemetry-debug-append`.
    package static func executable(_ name: String) -> String {
        repositoryRoot.appendingPathComponent(".build/debug/\(name)").path
    }

    package static var telemetry: String { executable("telemetry") }

    /// The crash tests' writer (Tests/Tools/DebugAppend): a test-only executable, never shipped.
    package static var debugAppend: String { executable("telemetry-debug-append") }

    /// The DCGM sample in `samples/` (a copy of shared/data's).
    package static var sampleCSV: String {
        repositoryRoot.appendingPathComponent("samples/dcgm_metrics_20250718_134233.csv").path
    }

    package static func exists(_ path: String) -> Bool { FileManager.default.isExecutableFile(atPath: path) }
}
