import ArgumentParser
import Logging

/// `--service-token` (env SERVICE_TOKEN): the bearer token of the calls between roles. The
/// broker and the proxy require it from callers, the streamer and the collector present it,
/// the API requires it on its internal write endpoint. Empty means none.
struct ServiceTokenOption: ParsableArguments {
    @Option(name: .customLong("service-token"), help: "Bearer token of the calls between roles: required by the broker, proxy and the API's internal endpoint, sent by the streamer, collector and proxy (env SERVICE_TOKEN; empty = none).")
    var serviceToken: String = Env.string("SERVICE_TOKEN", "")

    /// The token, nil when none is configured.
    var token: String? { serviceToken.isEmpty ? nil : serviceToken }
}

/// `--insecure-no-auth` (or INSECURE_NO_AUTH=1): a role that takes writes may listen beyond
/// loopback without a credential (see ``ListenAuth``).
struct InsecureNoAuthOption: ParsableArguments {
    @Flag(name: .customLong("insecure-no-auth"), help: "Serve without authentication beyond loopback when no credential is set (env INSECURE_NO_AUTH=1). Never on a shared network.")
    var insecureNoAuth: Bool = false

    /// The flag, or INSECURE_NO_AUTH set to 1/true/yes/on.
    var enabled: Bool { ListenAuth.insecureNoAuth(flag: insecureNoAuth) }

    /// Applies ``ListenAuth/check(role:host:credential:credentialHint:insecureNoAuth:)`` and
    /// logs its warning when the role serves without authentication anyway.
    func check(role: String, host: String, credential: String?, credentialHint: String, logger: Logger) throws {
        if let warning = try ListenAuth.check(role: role, host: host, credential: credential,
                                              credentialHint: credentialHint, insecureNoAuth: enabled) {
            logger.warning("\(warning)")
        }
    }
}
