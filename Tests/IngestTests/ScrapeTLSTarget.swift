import TelemetryTestSupport
import Foundation
import Testing
@testable import Ingest

/// A dcgm-exporter stand-in behind TLS and a Bearer check, as kube-rbac-proxy puts it: a
/// python3 `http.server` on 127.0.0.1:0 with a certificate signed by a CA made here with
/// openssl. The token it accepts is read from `expectedTokenPath` on every request (so a test
/// can rotate it); every request is logged to `requestLog` as `ok|denied <Authorization>`.
///
/// Why an earlier version of this test hung at teardown (each cause reproduced here):
/// - An HTTP/1.1 answer without `Content-Length` has no end but the connection's close, which
///   a keep-alive server never does: the client waits out its whole timeout. Every answer here
///   carries `Content-Length`.
/// - The child inherits the signal mask of the test thread that spawns it (`Process` does not
///   reset it, and exec keeps it), and that mask blocks SIGTERM (`SigBlk: fffffffe3bfaea27` in
///   the child's /proc status): `terminate()` left SIGTERM pending forever, so waiting for the
///   exit never returned. Measured before the fix: every stop needed the SIGKILL fallback after
///   5 s. The server unblocks SIGTERM first thing; ``stop()`` still falls back to SIGKILL.
/// - A single-threaded `HTTPServer`'s `shutdown()` returns only when the client closes its
///   kept-alive connection (4.6 s for a client that held it 5 s), and the old streamer shut its
///   TLS client down from an unstructured `Task` nobody awaited (the pool keeps idle connections
///   60 s). ``ScrapeClient/shutdown()`` is now awaited before `Streamer.run()` returns, and the
///   server is threaded with daemon threads.
/// - Output goes to a file, not an unread `Pipe` (whose buffer would block the writer).
final class ScrapeTLSTarget: @unchecked Sendable {
    let directory: String
    let port: Int
    private let process: Process

    var caPath: String { directory + "/ca.pem" }
    var otherCAPath: String { directory + "/other-ca.pem" }
    var expectedTokenPath: String { directory + "/expected-token" }
    var requestLog: String { (try? String(contentsOfFile: directory + "/requests.log", encoding: .utf8)) ?? "" }
    var url: String { "https://127.0.0.1:\(port)/metrics" }

    static let server = #"""
    import http.server, os, signal, ssl, sys
    # We inherit the signal mask of the test thread that spawned us (exec keeps it), and that
    # mask blocks SIGTERM: unblock it, or SIGTERM would stay pending and never stop us.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
    d = sys.argv[1]
    body = open(os.path.join(d, "metrics.txt"), "rb").read()
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def do_GET(self):
            want = open(os.path.join(d, "expected-token")).read().strip()
            got = self.headers.get("Authorization", "")
            ok = got == "Bearer " + want
            with open(os.path.join(d, "requests.log"), "a") as f:
                f.write(("ok " if ok else "denied ") + got + "\n")
            out = body if ok else b"Unauthorized\n"
            self.send_response(200 if ok else 401)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)
        def log_message(self, *args):
            pass
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(d, "server.pem"), os.path.join(d, "server.key"))
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(os.path.join(d, "port.tmp"), "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(os.path.join(d, "port.tmp"), os.path.join(d, "port"))
    srv.serve_forever()
    """#

    /// Makes the CAs and the server certificate, writes `metrics`, starts the server and waits
    /// for its port. `token` is the one it accepts.
    static func start(metrics: String, token: String) async throws -> ScrapeTLSTarget {
        let dir = temporaryDirectory("scrape-tls")
        do {
            try metrics.write(toFile: dir + "/metrics.txt", atomically: true, encoding: .utf8)
            try token.write(toFile: dir + "/expected-token", atomically: true, encoding: .utf8)
            try server.write(toFile: dir + "/server.py", atomically: true, encoding: .utf8)
            try await makeCertificates(in: dir)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["python3", dir + "/server.py", dir]
            FileManager.default.createFile(atPath: dir + "/server.out", contents: nil)
            let log = FileHandle(forWritingAtPath: dir + "/server.out") ?? .nullDevice
            p.standardOutput = log
            p.standardError = log
            try p.run()
            let target = ScrapeTLSTarget(directory: dir, port: 0, process: p)
            _ = await eventually(timeout: .seconds(20)) { FileManager.default.fileExists(atPath: dir + "/port") || !p.isRunning }
            guard let text = try? String(contentsOfFile: dir + "/port", encoding: .utf8), let port = Int(text) else {
                let out = (try? String(contentsOfFile: dir + "/server.out", encoding: .utf8)) ?? ""
                await target.stop()
                throw FixtureError("the TLS scrape target did not start: \(out.suffix(2000))")
            }
            return ScrapeTLSTarget(directory: dir, port: port, process: p)
        } catch {
            try? FileManager.default.removeItem(atPath: dir)
            throw error
        }
    }

    /// Runs `body` against a started target and stops it afterwards, whether `body` throws or not.
    static func with(metrics: String, token: String, _ body: (ScrapeTLSTarget) async throws -> Void) async throws {
        let target = try await start(metrics: metrics, token: token)
        do { try await body(target) } catch {
            await target.stop()
            throw error
        }
        // SIGTERM alone must stop it (see the signal mask above), with no SIGKILL fallback.
        #expect(await target.stop(), "the TLS scrape target ignored SIGTERM")
    }

    private init(directory: String, port: Int, process: Process) {
        self.directory = directory
        self.port = port
        self.process = process
    }

    /// Replaces the accepted token (the proxy now wants the rotated one).
    func expect(token: String) throws {
        try token.write(toFile: expectedTokenPath, atomically: true, encoding: .utf8)
    }

    /// Stops the server (SIGTERM, SIGKILL after 5 s), waits for it and removes the directory;
    /// true when SIGTERM was enough.
    @discardableResult
    func stop() async -> Bool {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        let terminated = await eventually(timeout: .seconds(5)) { !process.isRunning }
        if !terminated {
            kill(process.processIdentifier, SIGKILL)
            _ = await eventually(timeout: .seconds(5)) { !process.isRunning }
        }
        try? FileManager.default.removeItem(atPath: directory)
        return terminated
    }

    /// A CA, a server certificate for IP 127.0.0.1 signed by it, and an unrelated second CA.
    private static func makeCertificates(in dir: String) async throws {
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        for name in ["ca", "other-ca"] {
            try await openssl(["req", "-x509"] + ec + ["-keyout", "\(dir)/\(name).key", "-out", "\(dir)/\(name).pem", "-days", "2",
                         "-subj", "/CN=telemetry test \(name)", "-addext", "basicConstraints=critical,CA:TRUE",
                         "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        }
        try await openssl(["req"] + ec + ["-keyout", "\(dir)/server.key", "-out", "\(dir)/server.csr", "-subj", "/CN=127.0.0.1"])
        try "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n".write(toFile: "\(dir)/server.ext", atomically: true, encoding: .utf8)
        try await openssl(["x509", "-req", "-in", "\(dir)/server.csr", "-CA", "\(dir)/ca.pem", "-CAkey", "\(dir)/ca.key",
                     "-CAcreateserial", "-out", "\(dir)/server.pem", "-days", "2", "-extfile", "\(dir)/server.ext"])
    }

    private static func openssl(_ arguments: [String]) async throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["openssl"] + arguments
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        // Polled, not waitUntilExit(): that blocks a cooperative thread on a run loop.
        _ = await eventually(timeout: .seconds(60)) { !p.isRunning }
        guard !p.isRunning else { kill(p.processIdentifier, SIGKILL); throw FixtureError("openssl \(arguments.prefix(2).joined(separator: " ")) did not finish") }
        guard p.terminationStatus == 0 else { throw FixtureError("openssl \(arguments.prefix(2).joined(separator: " ")) exited \(p.terminationStatus)") }
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

