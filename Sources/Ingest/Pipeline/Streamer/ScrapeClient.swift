import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL
import Synchronization

/// What went wrong reaching a scrape target, worded so the operator knows which flag or file to fix.
package enum ScrapeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `--scrape-bearer-token-file` is missing, unreadable or empty.
    case tokenFile(path: String, reason: String)
    /// `--scrape-ca-file` is missing or holds no PEM certificate.
    case caFile(path: String, reason: String)
    /// The TLS handshake failed: most often the target's certificate is not signed by the CA given.
    case tls(url: String, caFile: String?, reason: String)
    /// The target answered with a status other than 2xx.
    case status(url: String, code: Int, hint: String)
    /// Connecting or reading failed.
    case transport(url: String, reason: String)

    package var description: String {
        switch self {
        case .tokenFile(let path, let reason):
            return "--scrape-bearer-token-file \(path): \(reason)"
        case .caFile(let path, let reason):
            return "--scrape-ca-file \(path): \(reason); give a PEM file of the CA certificates that sign the targets' TLS certificates"
        case .tls(let url, let caFile, let reason):
            let trust = caFile.map { "the CA certificates in --scrape-ca-file \($0)" } ?? "the system trust store (give the signing CA with --scrape-ca-file)"
            return "TLS handshake with \(url) failed (\(reason)): its certificate is not trusted by \(trust), or does not name the host"
        case .status(let url, let code, let hint):
            return "scrape of \(url) answered HTTP \(code)\(hint)"
        case .transport(let url, let reason):
            return "scrape of \(url) failed: \(reason)"
        }
    }
}

/// A Bearer token read from a file (a Kubernetes service-account token, which the kubelet
/// rotates in place): the file is stat'ed before each use and re-read when it changed.
final class BearerTokenFile: Sendable {
    let path: String
    private struct Cached { var stamp: Stamp; var token: String }
    private struct Stamp: Equatable { var modified: Date?; var size: Int?; var inode: Int? }
    private let cached = Mutex<Cached?>(nil)

    /// Reads the token now, so a missing, unreadable or empty file is a startup error.
    init(path: String) throws(ScrapeError) {
        self.path = path
        _ = try current()
    }

    /// The token, re-read if the file changed since the last read.
    func current() throws(ScrapeError) -> String {
        let stamp = try self.stamp()
        if let c = cached.withLock({ $0 }), c.stamp == stamp { return c.token }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw .tokenFile(path: path, reason: "cannot be read (\(error.localizedDescription))")
        }
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { throw .tokenFile(path: path, reason: "is empty; it must hold the Bearer token") }
        guard !token.contains(where: { $0 == "\n" || $0 == "\r" }) else {
            throw .tokenFile(path: path, reason: "holds more than one line; it must hold only the Bearer token")
        }
        cached.withLock { $0 = Cached(stamp: stamp, token: token) }
        return token
    }

    private func stamp() throws(ScrapeError) -> Stamp {
        // attributesOfItem follows symlinks, so the kubelet's `..data` swap shows as a change.
        let attributes: [FileAttributeKey: Any]
        do { attributes = try FileManager.default.attributesOfItem(atPath: path) } catch {
            throw .tokenFile(path: path, reason: "does not exist or cannot be read")
        }
        return Stamp(modified: attributes[.modificationDate] as? Date,
                     size: (attributes[.size] as? NSNumber)?.intValue,
                     inode: (attributes[.systemFileNumber] as? NSNumber)?.intValue)
    }
}

/// How scrapes reach their targets: the shared HTTP client, or one of its own that trusts only
/// `--scrape-ca-file`; plus the Bearer token of `--scrape-bearer-token-file`. Built once when
/// the streamer starts (so bad files stop it there) and shut down when it stops.
final class ScrapeClient: Sendable {
    let client: HTTPClient
    let caFile: String?
    let token: BearerTokenFile?
    private let owned: Bool

    init(caFile: String?, bearerTokenFile: String?) throws(ScrapeError) {
        token = try bearerTokenFile.map { path throws(ScrapeError) in try BearerTokenFile(path: path) }
        self.caFile = caFile
        guard let caFile else {
            client = HTTPClient.shared
            owned = false
            return
        }
        let certificates: [NIOSSLCertificate]
        do { certificates = try NIOSSLCertificate.fromPEMFile(caFile) } catch {
            throw .caFile(path: caFile, reason: "cannot be read as PEM certificates (\(error))")
        }
        guard !certificates.isEmpty else { throw .caFile(path: caFile, reason: "holds no certificate") }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(certificates)
        var configuration = HTTPClient.Configuration()
        configuration.tlsConfiguration = tls
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        owned = true
    }

    /// Closes the client's pooled connections (a kept-alive connection would otherwise hold
    /// the target's handler, and this process' event loop, open past the streamer's stop).
    func shutdown() async {
        guard owned else { return }
        try? await client.shutdown()
    }

    /// One scrape: the body of a 2xx answer (at most 64 MiB).
    func fetch(_ url: String, timeout: Duration) async throws -> [UInt8] {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "text/plain;version=0.0.4")
        if let token {
            let current = try token.current()
            request.headers.add(name: "Authorization", value: "Bearer \(current)")
        }
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await client.execute(request, timeout: .init(timeout))
            body = try await response.body.collect(upTo: 64 << 20)
        } catch let e as NIOSSLError {
            throw ScrapeError.tls(url: url, caFile: caFile, reason: "\(e)")
        } catch let e as NIOSSLExtraError {
            throw ScrapeError.tls(url: url, caFile: caFile, reason: "\(e)")
        } catch let e as BoringSSLError {
            throw ScrapeError.tls(url: url, caFile: caFile, reason: "\(e)")
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw ScrapeError.transport(url: url, reason: "\(error)")
        }
        let code = Int(response.status.code)
        guard (200..<300).contains(code) else {
            let hint: String
            switch code {
            case 401: hint = token.map { "; the token in \($0.path) was refused" } ?? "; the target wants credentials: give --scrape-bearer-token-file"
            case 403: hint = "; the token is valid but not allowed to read metrics (check the RBAC of the proxy in front of the exporter)"
            default: hint = ""
            }
            throw ScrapeError.status(url: url, code: code, hint: hint)
        }
        return Array(buffer: body)
    }
}
