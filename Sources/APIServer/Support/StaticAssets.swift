import Foundation
import Hummingbird
import Logging

/// The bundled files (UI and Swagger UI), read once into memory: a few MiB at most, and
/// serving them never touches the disk again.
struct StaticAssets: Sendable {
    struct File: Sendable {
        var bytes: [UInt8]
        var contentType: String

        func response() -> Response {
            Response(status: .ok, headers: [.contentType: contentType, .cacheControl: "public, max-age=300"],
                     body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        }
    }

    var ui: [String: File] = [:]
    var docs: [String: File] = [:]
    var hasSwaggerUI: Bool { docs["swagger-ui-bundle.js"] != nil && docs["swagger-ui.css"] != nil }

    init(logger: Logger) {
        ui = Self.load(folder: "UI", logger: logger)
        docs = Self.load(folder: "Docs", logger: logger)
    }

    static func load(folder: String, logger: Logger) -> [String: File] {
        guard let root = Bundle.module.url(forResource: folder, withExtension: nil) else {
            logger.debug("bundle folder missing", metadata: ["folder": .string(folder)])
            return [:]
        }
        var out: [String: File] = [:]
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) else { return [:] }
        let base = root.standardizedFileURL.path
        for case let url as URL in walker {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true,
                  let data = FileManager.default.contents(atPath: url.path)
            else { continue }
            var relative = String(url.standardizedFileURL.path.dropFirst(base.count))
            while relative.hasPrefix("/") { relative.removeFirst() }
            out[relative] = File(bytes: Array(data), contentType: contentType(url.pathExtension))
        }
        return out
    }

    static func contentType(_ ext: String) -> String {
        switch ext.lowercased() {
        case "html": return "text/html; charset=utf-8"
        case "js", "mjs": return "application/javascript; charset=utf-8"
        case "css": return "text/css; charset=utf-8"
        case "json", "map": return "application/json"
        case "svg": return "image/svg+xml"
        case "png": return "image/png"
        case "ico": return "image/x-icon"
        case "md", "txt": return "text/plain; charset=utf-8"
        default: return "application/octet-stream"
        }
    }

    static let swaggerPage = """
    <!doctype html>
    <html lang="en"><head><meta charset="utf-8"><title>GPU telemetry API — docs</title>
    <link rel="stylesheet" href="/docs/swagger-ui.css"></head>
    <body><div id="swagger-ui"></div>
    <script src="/docs/swagger-ui-bundle.js"></script>
    <script>
    window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true,
      presets: [SwaggerUIBundle.presets.apis], layout: "BaseLayout", persistAuthorization: true });
    </script></body></html>
    """

    /// Used when the Swagger UI files are not bundled: a small renderer of /openapi.json.
    static let fallbackDocsPage = """
    <!doctype html>
    <html lang="en"><head><meta charset="utf-8"><title>GPU telemetry API — docs</title>
    <style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}
    .op{border:1px solid #ccc;border-radius:6px;margin:.6rem 0;padding:.5rem .8rem}
    .m{font-weight:bold;text-transform:uppercase;margin-right:.6rem}code{background:#f4f4f4;padding:0 .2rem}
    </style></head><body><h1>GPU telemetry API</h1><p>The machine-readable description is at
    <a href="/openapi.json">/openapi.json</a>.</p><div id="ops">Loading…</div>
    <script>
    fetch("/openapi.json").then(r => r.json()).then(doc => {
      const ops = document.getElementById("ops"); ops.textContent = "";
      for (const [path, item] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(item)) {
        const d = document.createElement("div"); d.className = "op";
        const h = document.createElement("div");
        const m = document.createElement("span"); m.className = "m"; m.textContent = method;
        const p = document.createElement("code"); p.textContent = path;
        h.append(m, p); d.append(h);
        const s = document.createElement("p"); s.textContent = (op.summary || "") + " " + (op.description || ""); d.append(s);
        const params = (op.parameters || []).map(x => x.name + " (" + x.in + ")").join(", ");
        if (params) { const q = document.createElement("p"); q.textContent = "Parameters: " + params; d.append(q); }
        const codes = Object.keys(op.responses || {}).join(", ");
        const c = document.createElement("p"); c.textContent = "Responses: " + codes; d.append(c);
        ops.append(d);
      }
    });
    </script></body></html>
    """
}
