/// What `telemetry run` prints once the API listens: where everything is and three curl
/// commands that work as pasted.
struct RunBanner {
    var baseURL: String
    var dataDir: String
    var source: String
    var key: RunAPIKey.Resolved?
    var exampleUUID: String?

    var text: String {
        var lines: [String] = []
        lines.append("")
        lines.append("telemetry run: broker, collector, TSDB, API and streamer in one process")
        lines.append("  UI         \(baseURL)/")
        lines.append("  API docs   \(baseURL)/docs")
        lines.append("  data       \(dataDir) (tsdb/, broker/)")
        lines.append("  source     \(source)")
        let header: String
        if let key {
            if let file = key.file {
                lines.append("  API key    \(key.keys[0])")
                lines.append("             \(key.created ? "generated and saved" : "read from") \(file) (mode 0600); set API_KEY to use your own")
                header = "X-API-Key: \(key.keys[0])"
            } else {
                lines.append("  API key    from API_KEY / --api-key (not shown)")
                header = "X-API-Key: $API_KEY"
            }
        } else {
            lines.append("  API key    none: AUTHENTICATION IS DISABLED (--insecure-no-auth)")
            header = ""
        }
        let h = header.isEmpty ? "" : "-H '\(header)' "
        let uuid = exampleUUID ?? "GPU-…"
        lines.append("")
        lines.append("Try:")
        lines.append("  curl -s \(h)'\(baseURL)/api/v1/gpus?limit=5'")
        lines.append("  curl -s \(h)'\(baseURL)/api/v1/gpus/\(uuid)/telemetry?metric=DCGM_FI_DEV_GPU_TEMP&limit=10'")
        lines.append("  curl -s \(h)'\(baseURL)/api/v1/query?metric=DCGM_FI_DEV_POWER_USAGE&agg=max&group_by=Hostname'")
        lines.append("")
        lines.append("Stop with Ctrl-C (SIGINT) or SIGTERM: every role drains and the next start resumes with all data.")
        lines.append("")
        return lines.joined(separator: "\n")
    }
}
