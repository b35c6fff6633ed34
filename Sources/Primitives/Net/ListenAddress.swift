/// A `HOST:PORT` to listen on, as every role's `--listen` takes it. The port may be 0 ("pick
/// one"); an empty host means every interface (`0.0.0.0`); an IPv6 host may be bracketed
/// (`[::1]:8080`).
package struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    package var host: String
    package var port: Int

    package init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    package static func parse(_ text: String) throws(ListenAddressError) -> ListenAddress {
        let s = text.trimmingWhitespace()
        guard let colon = s.lastIndex(of: ":") else { throw .malformed(text) }
        guard let port = Int(s[s.index(after: colon)...]) else { throw .malformed(text) }
        guard (0...65535).contains(port) else { throw .portOutOfRange(text) }
        var host = String(s[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") && host.count >= 2 { host = String(host.dropFirst().dropLast()) }
        return ListenAddress(host: host.isEmpty ? "0.0.0.0" : host, port: port)
    }

    package var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Why a listen address was refused.
package enum ListenAddressError: Error, Sendable, Equatable, CustomStringConvertible {
    case malformed(String)
    case portOutOfRange(String)

    package var description: String {
        switch self {
        case .malformed(let text): return "\"\(text)\" is not HOST:PORT (e.g. 127.0.0.1:8080, :9000, [::1]:8080)"
        case .portOutOfRange(let text): return "the port of \"\(text)\" is outside 0...65535"
        }
    }
}
