import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A child process of a built executable (see ``TestPaths``) whose stdout and stderr are
/// captured; a server announces its port with a line "<role> listening on HOST:PORT".
///
/// ```swift
/// let broker = try ChildProcess.start("broker", TestPaths.telemetry, ["broker", "--listen", "127.0.0.1:0"])
/// let port = try await broker.port()
/// broker.terminate(); await broker.wait()
/// ```
package final class ChildProcess: @unchecked Sendable {
    package let name: String
    package let arguments: [String]
    private let process = Process()
    private let lock = NSLock()
    private var output = ""

    private init(_ name: String, arguments: [String]) {
        self.name = name
        self.arguments = arguments
    }

    /// Starts `executable` with `arguments`; `environment` adds to (and overrides) this process's.
    package static func start(_ name: String, _ executable: String, _ arguments: [String],
                              environment: [String: String] = [:]) throws -> ChildProcess {
        guard TestPaths.exists(executable) else {
            throw TestSupportError("\(executable) is missing; run `swift build --build-tests` first")
        }
        let child = ChildProcess(name, arguments: arguments)
        try child.launch(executable, environment: environment)
        return child
    }

    private func launch(_ executable: String, environment: [String: String]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
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

    /// Everything the child wrote so far (stdout and stderr interleaved).
    package var log: String { lock.withLock { output } }
    package var pid: Int32 { process.processIdentifier }
    package var isRunning: Bool { process.isRunning }
    package var exitCode: Int32? { process.isRunning ? nil : process.terminationStatus }

    /// Waits for "listening on HOST:PORT" and returns the port; throws when the child exits
    /// or `timeout` passes first, with the tail of its output.
    package func port(timeout: Duration = .seconds(30)) async throws -> Int {
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
            throw TestSupportError("\(name) did not announce its port; exit \(exitCode.map(String.init) ?? "-"); output:\n\(log.suffix(3000))")
        }
        return found
    }

    package func kill9() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    package func terminate() {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
    }

    /// Waits for exit and returns the status; SIGKILLs the child past `timeout` (-1 if it
    /// still runs after that).
    @discardableResult
    package func wait(timeout: Duration = .seconds(20)) async -> Int32 {
        if !(await eventually(timeout: timeout, every: .milliseconds(20)) { !isRunning }) {
            kill9()
            _ = await eventually(timeout: .seconds(5)) { !isRunning }
        }
        return process.isRunning ? -1 : process.terminationStatus
    }
}
