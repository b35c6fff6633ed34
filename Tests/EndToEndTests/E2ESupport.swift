import Foundation
import Synchronization
import Testing

/// Repository root, found from this file's path (Tests/EndToEndTests/<file>).
let repoRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let sampleCSV = repoRoot.appendingPathComponent("samples/dcgm_metrics_20250718_134233.csv").path
let telemetryBinary = repoRoot.appendingPathComponent(".build/debug/telemetry").path
let exampleGPU = "GPU-5fd4f087-86f3-7a43-b711-4771313afc50"

func scratchDirectory(_ name: String) -> String {
    let path = NSTemporaryDirectory() + "e2e-\(name)-\(UUID().uuidString.prefix(8))"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Polls `condition` until it holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(30), every: Duration = .milliseconds(50), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: every)
    }
    return try await condition()
}

/// A child `telemetry` process whose output is captured; it announces its port with a line
/// "<role> listening on HOST:PORT".
final class Child: @unchecked Sendable {
    let name: String
    let arguments: [String]
    let environment: [String: String]
    private let process = Process()
    private let lock = NSLock()
    private var output = ""

    init(_ name: String, _ arguments: [String], environment: [String: String] = [:]) {
        self.name = name
        self.arguments = arguments
        self.environment = environment
    }

    static func start(_ name: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Child {
        let c = Child(name, arguments, environment: environment)
        try c.launch()
        return c
    }

    private func launch() throws {
        process.executableURL = URL(fileURLWithPath: telemetryBinary)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["LOG_LEVEL"] = env["E2E_LOG_LEVEL"] ?? "warning"
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        pipe.fileHandleForReading.readabilityHandler = { [weak self] h in
            let data = h.availableData
            guard let self, !data.isEmpty else { return }
            self.lock.withLock { self.output += String(decoding: data, as: UTF8.self) }
        }
        try process.run()
    }

    var log: String { lock.withLock { output } }
    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }
    var exitCode: Int32? { process.isRunning ? nil : process.terminationStatus }

    /// Waits for "listening on HOST:PORT" and returns the port.
    func port(timeout: Duration = .seconds(30)) async throws -> Int {
        var found: Int?
        _ = await eventually(timeout: timeout, every: .milliseconds(20)) {
            // "<role> listening on HOST:PORT[, anything]"
            for line in log.split(separator: "\n") {
                guard let r = line.range(of: "listening on ") else { continue }
                let address = line[r.upperBound...].prefix { $0 != "," && $0 != " " }
                if let colon = address.lastIndex(of: ":"), let p = Int(address[address.index(after: colon)...]) {
                    found = p
                    return true
                }
            }
            return !isRunning
        }
        guard let found else {
            throw E2EError.noPort("\(name) did not announce its port; exit \(exitCode.map(String.init) ?? "-"); output:\n\(log.suffix(3000))")
        }
        return found
    }

    func kill9() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    func terminate() {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
    }

    /// Waits for exit; SIGKILLs it past `timeout`.
    @discardableResult
    func wait(timeout: Duration = .seconds(20)) async -> Int32 {
        if !(await eventually(timeout: timeout, every: .milliseconds(20)) { !isRunning }) {
            kill9()
            _ = await eventually(timeout: .seconds(5)) { !isRunning }
        }
        return process.isRunning ? -1 : process.terminationStatus
    }
}

enum E2EError: Error, CustomStringConvertible {
    case noPort(String)
    case missingBinary
    var description: String {
        switch self {
        case .noPort(let m): return m
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
        lock.withLock { all }.map { "--- \($0.name) (\($0.arguments.joined(separator: " ")))\n\($0.log.suffix(4000))" }.joined(separator: "\n")
    }
}
