import ArgumentParser
import HTTPServing

/// How long a role's HTTP server waits on a slow client (see `HTTPTimeouts`): `api`, `run`,
/// `broker` and `proxy` share these flags. Each also reads its environment variable (the flag wins).
struct HTTPTimeoutOptions: ParsableArguments {
    @Option(name: .customLong("idle-timeout"), help: "Close a connection that sends no complete request part (headers, a body chunk) for this long: idle keep-alive, trickled headers, a stalled body (env IDLE_TIMEOUT; default 30s).")
    var idleTimeout: String?
    @Option(name: .customLong("read-timeout"), help: "Close a connection whose request (headers and body) has not fully arrived this long after its headers (env READ_TIMEOUT; default 60s).")
    var readTimeout: String?
    @Option(name: .customLong("write-timeout"), help: "Close a connection whose client has read nothing of its response for this long (env WRITE_TIMEOUT; default 60s).")
    var writeTimeout: String?

    /// The timeouts: flag, else environment, else the default.
    func timeouts() throws -> HTTPTimeouts {
        func read(_ flag: String?, _ name: String, _ variable: String, _ fallback: Duration) throws -> Duration {
            try Env.text(flag, variable).map { try FlagValues.duration($0, flag: "\(name) (or \(variable))", positive: true) } ?? fallback
        }
        let d = HTTPTimeouts.defaults
        let t = HTTPTimeouts(idle: try read(idleTimeout, "--idle-timeout", "IDLE_TIMEOUT", d.idle),
                             read: try read(readTimeout, "--read-timeout", "READ_TIMEOUT", d.read),
                             write: try read(writeTimeout, "--write-timeout", "WRITE_TIMEOUT", d.write))
        do { try t.validate() } catch { throw ValidationError(error.description) }
        return t
    }
}
