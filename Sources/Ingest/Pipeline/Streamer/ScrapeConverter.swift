import Primitives

/// Turns a dcgm-exporter scrape into the rows a DCGM CSV export would hold, so scraped and
/// replayed telemetry get identical series. Rows are written as DCGM CSV and read back through
/// ``DCGMCSVParser``: one code path decides the labels of a row.
///
/// Like Prometheus, it adds `instance` (the target's host:port) and `job` to each series. Samples
/// without a GPU UUID (NVSwitch and CPU metrics, NVLink metrics naming a peer by `gpu_uuid`,
/// the exporter's own metrics) are kept as series that belong to no GPU, as Prometheus keeps
/// them; only non-finite values and unrepresentable timestamps are skipped and counted.
package struct ScrapeConverter {
    package var instance: String
    package var job: String

    package init(instance: String, job: String) {
        self.instance = instance
        self.job = job
    }

    /// The scrape as a DCGM CSV document (samples that cannot be stored skipped and counted).
    package func document(from samples: [PrometheusSample], scrapeTime: Int64) -> (document: [UInt8], skipped: Int) {
        // The column order of dcgm CSV exports; the parser maps columns by header name.
        var doc = "timestamp,metric_name,gpu_id,device,uuid,modelName,Hostname,container,pod,namespace,value,labels_raw\n"
        var skipped = 0
        var rows = 0
        for s in samples {
            // An empty uuid column leaves the row without a UUID label: no GPU is created for it.
            let uuid = s["UUID"] ?? s["uuid"] ?? ""
            guard s.value.isFinite else {
                skipped += 1
                continue
            }
            var ts = scrapeTime
            if let ms = s.timestampMillis {
                // A millisecond time past Int64 nanoseconds is skipped, not wrapped to another century.
                let (ns, overflow) = ms.multipliedReportingOverflow(by: 1_000_000)
                guard !overflow else { skipped += 1; continue }
                ts = ns
            }
            var raw: [(String, String)] = s.labels.map { ($0.name, $0.value) }
            raw.append(("__name__", s.name))
            if s["instance"] == nil { raw.append(("instance", instance)) }
            if s["job"] == nil { raw.append(("job", job)) }
            raw.sort { $0.0 < $1.0 }
            let labelsRaw = raw.filter { !$0.1.isEmpty }.map { "\($0.0)=\"\(escapeLabel($0.1))\"" }.joined(separator: ",")
            let host: String = s["Hostname"] ?? s["hostname"] ?? hostOf(instance)
            var fields: [String] = [RFC3339.format(ts), s.name]
            fields.append(s["gpu"] ?? "")
            fields.append(s["device"] ?? "")
            fields.append(uuid)
            fields.append(s["modelName"] ?? "")
            fields.append(host)
            fields.append(s["container"] ?? "")
            fields.append(s["pod"] ?? "")
            fields.append(s["namespace"] ?? "")
            fields.append(formatValue(s.value))
            fields.append(labelsRaw)
            doc += fields.map(csvQuote).joined(separator: ",")
            doc += "\n"
            rows += 1
        }
        return (rows > 0 ? Array(doc.utf8) : [], skipped)
    }

    /// The scrape as records, read back through the CSV parser.
    package func records(from samples: [PrometheusSample], scrapeTime: Int64) throws -> (records: [DCGMRecord], skipped: Int) {
        let (doc, skipped) = document(from: samples, scrapeTime: scrapeTime)
        guard !doc.isEmpty else { return ([], skipped) }
        let (records, stats) = try DCGMCSVParser.parse(doc)
        return (records, skipped + stats.badRows + stats.blankSkipped)
    }

    private func hostOf(_ instance: String) -> String {
        instance.split(separator: ":").first.map(String.init) ?? instance
    }

    /// Prometheus escapes (`\\`, `\"`, `\n`) on the UTF-8 bytes, for the reason given at
    /// ``DCGMCSVWriter/quoted(_:)``.
    private func escapeLabel(_ v: String) -> String {
        guard v.utf8.contains(where: { $0 == 92 || $0 == 34 || $0 == 10 }) else { return v }
        var out: [UInt8] = []
        out.reserveCapacity(v.utf8.count + 8)
        for b in v.utf8 {
            switch b {
            case 92: out += [92, 92]
            case 34: out += [92, 34]
            case 10: out += [92, 110]
            default: out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private func csvQuote(_ field: String) -> String { DCGMCSVWriter.quoted(field) }

    private func formatValue(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }
}
