import Ingest
import TSDB

/// The ingest formats, through the same entry points the HTTP write paths, the importer and
/// the collector use.
enum IngestHarnesses {
    /// DCGM CSV: lenient and strict parses never trap; a parse streamed in two pieces (cut
    /// where the first byte says) yields exactly the records and statistics of a whole one;
    /// records written back as CSV (what the streamer sends through the broker) parse back
    /// to the same records, strictly (what the collector accepts).
    @Sendable static func csv(_ data: UnsafeRawBufferPointer) {
        let bytes = [UInt8](data)
        let whole = Result { try DCGMCSVParser.parse(bytes) }
        _ = Result { try DCGMCSVParser.parse(bytes, strict: true) }
        _ = Result { try MessageCodec.validate(bytes) }

        let cut = bytes.isEmpty ? 0 : Int(bytes[0]) % bytes.count
        var parser = DCGMCSVParser()
        var streamed: [DCGMRecord] = []
        let pieces = Result {
            try parser.feed(UnsafeRawBufferPointer(rebasing: data[..<cut])) { streamed.append($0) }
            try parser.feed(UnsafeRawBufferPointer(rebasing: data[cut...])) { streamed.append($0) }
            try parser.finish { streamed.append($0) }
        }
        switch (whole, pieces) {
        case (.success(let (records, stats)), .success):
            require(sameRecords(records, streamed), "streamed parse (cut at \(cut)) gave other records than the whole parse: \(firstDifference(records, streamed))")
            require(stats == parser.stats, "streamed parse (cut at \(cut)) stats \(parser.stats) differ from \(stats)")
            guard !records.isEmpty else { return }
            let document = DCGMCSVWriter.document(records)
            // What the collector checks (`validate`), then the records the sink would store.
            switch Result(catching: { () throws -> [DCGMRecord] in
                _ = try MessageCodec.validate(document)
                return try DCGMCSVParser.parse(document, strict: true).0
            }) {
            case .success(let back):
                require(sameRecords(records, back), "DCGM CSV written by DCGMCSVWriter parses back to other records: \(firstDifference(records, back))")
            case .failure(let error):
                require(false, "DCGM CSV written by DCGMCSVWriter is refused by the collector: \(error)")
            }
        case (.failure, .failure):
            break
        default:
            require(false, "whole parse and streamed parse (cut at \(cut)) disagree on failing")
        }
    }

    /// InfluxDB line protocol at the precision the first byte picks (and whether bad lines
    /// are skipped): the in-place batch path the write routes use finds exactly the lines,
    /// samples and errors of the parser that builds labels.
    @Sendable static func lineProtocol(_ data: UnsafeRawBufferPointer) {
        let (selector, rest) = split(data)
        let precisions = LineProtocolPrecision.allCases
        let precision = precisions[Int(selector) % precisions.count]
        let badLines: LineProtocolParser.BadLines = selector & 0x80 == 0 ? .refuse : .skip
        let bytes = [UInt8](rest)
        let now: Int64 = 1_752_846_154_000_000_000
        let labelled = Result { () throws(LineProtocolError) in try LineProtocolParser.parse(bytes, precision: precision, now: now, badLines: badLines) }
        let batched = Result { () throws(LineProtocolError) in try lineProtocolBuilder.parse(bytes, precision: precision, now: now, badLines: badLines) }
        switch (labelled, batched) {
        case (.success(let a), .success(let b)):
            require(a.lines == b.lines && a.skippedStringFields == b.skippedStringFields && a.badLines == b.badLines,
                    "batch path: \(b.lines) lines, \(b.skippedStringFields) string fields, \(b.badLines.count) bad; parser: \(a.lines), \(a.skippedStringFields), \(a.badLines.count)")
            require(a.samples.map(\.timestamp) == b.batch.timestamps, "batch path timestamps differ from the parser's")
            require(a.samples.map(\.value.bitPattern) == b.batch.values.map(\.bitPattern), "batch path values differ from the parser's")
        case (.failure(let a), .failure(let b)):
            require(a == b, "batch path error \(b) differs from the parser's \(a)")
        default:
            require(false, "batch path and parser disagree on failing")
        }
    }

    /// No database here: nothing is ever cached, so every series takes the labels path.
    static let lineProtocolBuilder = LineProtocolBatchBuilder()

    /// JSON samples: one object or an array, and NDJSON, each through the plain decoder and
    /// the batch path the write routes use (same samples, same errors).
    @Sendable static func json(_ data: UnsafeRawBufferPointer) {
        let bytes = [UInt8](data)
        let now: Int64 = 1_752_846_154_000_000_000
        for ndjson in [false, true] {
            let plain = Result { () throws(JSONSampleError) -> [LabeledSample] in
                if ndjson { return try JSONSamples.decodeNDJSON(bytes, now: now) }
                return try JSONSamples.decode(bytes, now: now)
            }
            let batched = Result { () throws(JSONSampleError) in try jsonBuilder.parse(bytes, ndjson: ndjson, now: now) }
            switch (plain, batched) {
            case (.success(let a), .success(let b)):
                require(a.map(\.timestamp) == b.batch.timestamps, "JSON batch path timestamps differ from the decoder's (ndjson \(ndjson))")
                require(a.map(\.value.bitPattern) == b.batch.values.map(\.bitPattern), "JSON batch path values differ from the decoder's (ndjson \(ndjson))")
            case (.failure(let a), .failure(let b)):
                require(a == b, "JSON batch path error \(b) differs from the decoder's \(a) (ndjson \(ndjson))")
            default:
                require(false, "JSON batch path and decoder disagree on failing (ndjson \(ndjson))")
            }
        }
    }

    /// No database here either: every series takes the labels path.
    static let jsonBuilder = JSONBatchBuilder()

    /// Prometheus text (a dcgm-exporter scrape) and the scrape conversion to DCGM rows: every
    /// sample becomes one record or is counted as skipped, never lost or duplicated.
    @Sendable static func prometheus(_ data: UnsafeRawBufferPointer) {
        let (samples, _) = PrometheusText.parse([UInt8](data))
        let converter = ScrapeConverter(instance: "127.0.0.1:9400", job: "dcgm")
        guard let converted = try? converter.records(from: samples, scrapeTime: 1_752_846_154_000_000_000) else {
            require(false, "scrape conversion threw on \(samples.count) samples")
            return
        }
        require(converted.records.count + converted.skipped == samples.count,
                "\(samples.count) scraped samples became \(converted.records.count) records and \(converted.skipped) skipped")
        // When every finite sample made it (with a GPU UUID or without: NVSwitch, CPU, …), each
        // record carries its sample's labels and time.
        let kept = samples.filter { $0.value.isFinite }
        guard kept.count == converted.records.count else { return }
        for (sample, record) in zip(kept, converted.records) {
            let names = sample.labels.map(\.name)
            guard Set(names).count == names.count, !names.contains("__name__") else { continue }
            for label in sample.labels where !label.value.isEmpty {
                require(record.labels[label.name] == label.value,
                        "scraped label \(label.name)=\(String(reflecting: label.value)) became \(String(reflecting: record.labels[label.name]))")
            }
            if let ms = sample.timestampMillis {
                let (ns, overflow) = ms.multipliedReportingOverflow(by: 1_000_000)
                require(!overflow && record.timestamp == ns, "scrape timestamp \(ms) ms became \(record.timestamp) ns")
            }
        }
    }

    static func firstDifference(_ a: [DCGMRecord], _ b: [DCGMRecord]) -> String {
        guard a.count == b.count else { return "\(a.count) records, then \(b.count)" }
        for (x, y) in zip(a, b) where !sameRecords([x], [y]) { return "\(x) became \(y)" }
        return "none"
    }

    static func sameRecords(_ a: [DCGMRecord], _ b: [DCGMRecord]) -> Bool {
        guard a.count == b.count else { return false }
        for (x, y) in zip(a, b) {
            var y2 = y
            y2.value = x.value
            guard sameBits(x.value, y.value) || (x.value.isNaN && y.value.isNaN), x == y2 else { return false }
        }
        return true
    }
}
