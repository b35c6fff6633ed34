import Foundation
import Synchronization
import TelemetryTestSupport
import Testing

let repoRoot = TestPaths.repositoryRoot
let sampleCSV = TestPaths.sampleCSV
let telemetryBinary = TestPaths.telemetry
let exampleGPU = "GPU-5fd4f087-86f3-7a43-b711-4771313afc50"

/// A child `telemetry` process (its log level from E2E_LOG_LEVEL, default warning).
typealias Child = ChildProcess

extension ChildProcess {
    static func start(_ name: String, _ arguments: [String], environment: [String: String] = [:]) throws -> ChildProcess {
        var env = ["LOG_LEVEL": ProcessInfo.processInfo.environment["E2E_LOG_LEVEL"] ?? "warning"]
        for (k, v) in environment { env[k] = v }
        return try ChildProcess.start(name, TestPaths.telemetry, arguments, environment: env)
    }
}

enum E2EError: Error, CustomStringConvertible {
    case missingBinary
    var description: String {
        switch self {
        case .missingBinary: return "\(telemetryBinary) is missing; run `swift build` first"
        }
    }
}

/// Children started by one test; all are killed when the test ends, pass or fail.
final class Children: @unchecked Sendable {
    private let lock = NSLock()
    private var all: [Child] = []

    func start(_ name: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Child {
        guard FileManager.default.isExecutableFile(atPath: telemetryBinary) else { throw E2EError.missingBinary }
        let c = try Child.start(name, arguments, environment: environment)
        lock.withLock { all.append(c) }
        return c
    }

    func killAll() {
        for c in lock.withLock({ all }) { c.kill9() }
    }

    func stopAll() async {
        let list = lock.withLock { all }
        for c in list { c.terminate() }
        for c in list { await c.wait(timeout: .seconds(10)) }
    }

    var logs: String {
        lock.withLock { all }.map { "--- \($0.name) (\($0.arguments.joined(separator: " ")))\n\(Self.excerpt($0.log))" }.joined(separator: "\n")
    }

    /// A child's log for a failure message: its last 4,000 characters, and where it crashed
    /// earlier than that, the crash's first lines too (a backtrace dump pushes the reason and
    /// the crashed thread's frames out of the tail).
    static func excerpt(_ log: String) -> String {
        let tail = String(log.suffix(4000))
        guard log.count > 4000,
              let r = log.range(of: "Fatal error") ?? log.range(of: "Program crashed") ?? log.range(of: "crashed:") else { return tail }
        let from = log.index(r.lowerBound, offsetBy: -300, limitedBy: log.startIndex) ?? log.startIndex
        let head = String(log[from...].prefix(4000))
        if tail.contains(head.prefix(200)) { return tail }
        return "…\n" + head + "\n…\n" + tail
    }
}
