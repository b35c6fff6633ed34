import ArgumentParser
import Foundation

/// The one rule every role that takes writes (API, broker, proxy) applies before it listens:
/// with no credential configured it serves only on loopback, unless told
/// `--insecure-no-auth` (or `INSECURE_NO_AUTH=1`); then it warns loudly instead.
///
/// ```swift
/// try ListenAuth.check(role: "broker", host: address.host, credential: config.serviceToken,
///                      credentialHint: "--service-token or SERVICE_TOKEN", insecureNoAuth: insecureNoAuth)
/// ```
enum ListenAuth {
    /// `--insecure-no-auth` given, or `INSECURE_NO_AUTH` set to 1/true/yes/on.
    static func insecureNoAuth(flag: Bool, environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        flag || ["1", "true", "yes", "on"].contains((environment["INSECURE_NO_AUTH"] ?? "").lowercased())
    }

    /// 127.0.0.0/8, ::1 and localhost: reachable from this machine only.
    static func isLoopback(_ host: String) -> Bool {
        var h = host.lowercased()
        if h.hasPrefix("["), h.hasSuffix("]") { h = String(h.dropFirst().dropLast()) }
        if h == "localhost" || h == "::1" || h == "0:0:0:0:0:0:0:1" { return true }
        let parts = h.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    /// Throws a ValidationError (non-zero exit, message on stderr) when `role` would listen on
    /// `host` beyond loopback without a credential and without `insecureNoAuth`. Returns the
    /// warning to print when it serves without authentication anyway, else nil.
    @discardableResult
    static func check(role: String, host: String, credential: String?, credentialHint: String, insecureNoAuth: Bool) throws -> String? {
        if let credential, !credential.isEmpty { return nil }
        if isLoopback(host) { return nil }
        guard insecureNoAuth else {
            throw ValidationError("""
                refusing to serve the \(role) on \(host) without authentication: anyone who can reach it could \
                read and write every record. Set \(credentialHint), listen on 127.0.0.1, or pass \
                --insecure-no-auth (INSECURE_NO_AUTH=1) if this network is trusted.
                """)
        }
        return "AUTHENTICATION IS DISABLED (--insecure-no-auth): anyone who can reach \(host) can use the \(role)"
    }
}
