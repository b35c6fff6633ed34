import Foundation
import Testing
import TelemetryTestSupport

/// The real `telemetry broker` and `telemetry proxy`: beyond loopback they refuse to start
/// without a service token unless told `--insecure-no-auth`, as `telemetry api` does.
@Suite("Roles refuse to listen beyond loopback without a credential")
struct ListenAuthTests {
    static let noCredential = ["SERVICE_TOKEN": "", "INSECURE_NO_AUTH": "", "API_KEY": ""]
    /// The brokers' data directories, removed when the test is done (its children are stopped by then).
    let scratch = TempDir("e2e-listen-auth")

    func role(_ name: String, listen: String, extra: [String] = []) -> [String] {
        switch name {
        case "broker": return ["broker", "--listen", listen, "--data-dir", scratch.path + "/\(UUID().uuidString.prefix(8))"] + extra
        default: return ["proxy", "--listen", listen, "--brokers", "http://127.0.0.1:1"] + extra
        }
    }

    @Test("0.0.0.0 without a token: non-zero exit and a message naming the fix", arguments: ["broker", "proxy"])
    func refused(_ name: String) async throws {
        let children = Children()
        defer { children.killAll() }
        let child = try children.start(name, role(name, listen: "0.0.0.0:0"), environment: Self.noCredential)
        let code = await child.wait(timeout: .seconds(30))
        #expect(code != 0, "\(name) started without a token on 0.0.0.0: \(child.log)")
        #expect(child.log.contains("refusing to serve the \(name)"), "\(child.log)")
        #expect(child.log.contains("SERVICE_TOKEN") && child.log.contains("--insecure-no-auth"))
    }

    @Test("0.0.0.0 with a token, with --insecure-no-auth, or on loopback without one: it serves", arguments: ["broker", "proxy"])
    func allowed(_ name: String) async throws {
        let cases: [([String], [String: String])] = [
            (role(name, listen: "0.0.0.0:0"), Self.noCredential.merging(["SERVICE_TOKEN": "t0ken"]) { $1 }),
            (role(name, listen: "0.0.0.0:0", extra: ["--insecure-no-auth"]), Self.noCredential),
            (role(name, listen: "0.0.0.0:0"), Self.noCredential.merging(["INSECURE_NO_AUTH": "1"]) { $1 }),
            (role(name, listen: "127.0.0.1:0"), Self.noCredential),
        ]
        for (arguments, environment) in cases {
            let children = Children()
            let child = try children.start(name, arguments, environment: environment)
            do {
                _ = try await child.port()
            } catch {
                Issue.record("\(arguments) \(environment): \(error)")
            }
            await children.stopAll()
        }
    }
}
