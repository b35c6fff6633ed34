import Testing

@testable import Ingest

/// Inputs that crashed or broke an invariant of an ingest parser (found by the libFuzzer
/// targets in Fuzz/ or while writing them); each is also in Fuzz/corpus/<target>/ so the
/// fuzz smoke replays it.
@Suite("Fuzz regressions: ingest parsers")
struct IngestFuzzRegressionTests {
    /// A quote followed by a combining mark is one Character (the fuzz input csv/crash-9a99ee10…).
    static let quoteThenMark = "DCGM_FI_DRIVER_VERSION=\"535.129.03\"\u{05B7}ostname=\"h1\",job=\"dcgm\""

    @Test("DCGM CSV written for the broker escapes a quote followed by a combining mark")
    func writerQuotesBeforeCombiningMarks() throws {
        let record = DCGMRecord(timestamp: 1_752_871_354_000_000_000, metric: "DCGM_FI_DEV_GPU_UTIL", uuid: "GPU-1",
                                modelName: "H\"\u{0301}100", value: 7, labelsRaw: Self.quoteThenMark)
        let back = try MessageCodec.decode(DCGMCSVWriter.document([record]))
        #expect(back.count == 1)
        #expect(back.first?.labelsRaw == record.labelsRaw)
        #expect(back.first?.modelName == record.modelName)
        #expect(back.first?.labels == record.labels)
    }

    @Test("scraped label values with a quote before a combining mark keep every label")
    func scrapeEscapesBeforeCombiningMarks() throws {
        let value = "a\"\u{05B7}b\\\u{0301}c\n\u{0301}d"
        let sample = PrometheusSample(name: "DCGM_FI_DEV_GPU_UTIL", labels: [.init("UUID", "GPU-1"), .init("x", value), .init("y", "z")], value: 3)
        let converter = ScrapeConverter(instance: "127.0.0.1:9400", job: "dcgm")
        let (records, skipped) = try converter.records(from: [sample], scrapeTime: 1_752_871_354_000_000_000)
        #expect(skipped == 0)
        #expect(records.first?.labels["x"] == value)
        #expect(records.first?.labels["y"] == "z")
    }

    @Test("an escaped quote in a labels_raw value read straight from the CSV field (prometheus/crash-8ab3802e…)")
    func escapedQuoteInRawLabels() throws {
        let csv = "timestamp,metric_name,uuid,value,labels_raw\n"
            + #""2025-07-18T20:42:34Z","M","GPU-1","1","k=""a\""b\\c"",j=""z""""# + "\n"
        let (records, stats) = try DCGMCSVParser.parse(Array(csv.utf8), strict: true)
        #expect(stats.badRows == 0)
        #expect(records.first?.labels["k"] == #"a"b\c"#)
        #expect(records.first?.labels["j"] == "z")
        #expect(records.first?.labelsRaw == #"k="a\"b\\c",j="z""#)
    }

    @Test("a doubled quote outside a quoted labels_raw value means one quote, as in the unquoted field (csv/crash-d872b515…)")
    func doubledQuoteInALabelName() throws {
        // The same labels_raw text as a bare CSV field and quoted (its quotes doubled), and the
        // record written back for the broker: one set of labels in all three.
        let header = "timestamp,metric_name,uuid,value,labels_raw\n"
        func row(_ field: String) -> [UInt8] { Array((header + #""2025-07-18T20:42:34Z","M","GPU-1","1","# + field + "\n").utf8) }
        func quoted(_ text: String) -> String { "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

        let text = #"D"CGM_FI_DRIVER_VERSION="0"""#
        let a = try DCGMCSVParser.parse(row(text)).0
        let b = try DCGMCSVParser.parse(row(quoted(text)), strict: true).0
        #expect(a.count == 1 && b.count == 1)
        #expect(a.first?.labelsRaw == text && b.first?.labelsRaw == text)
        #expect(a.first?.labels == b.first?.labels)
        #expect(b.first?.labels[#"D"CGM_FI_DRIVER_VERSION"#] == "0")
        let back = try DCGMCSVParser.parse(DCGMCSVWriter.document(a), strict: true).0
        #expect(back.first?.labels == a.first?.labels)

        // A bare value and a name with quotes in them, read from a quoted field.
        let more = #"x=a""b,q"n="v""#
        let c = try DCGMCSVParser.parse(row(quoted(more)), strict: true).0
        #expect(c.first?.labels["x"] == #"a""b"# && c.first?.labels[#"q"n"#] == "v")
        #expect(c.first?.labels == DCGMRecord(timestamp: 1, metric: "M", uuid: "GPU-1", value: 1, labelsRaw: more).labels)
    }

    @Test("a scraped millisecond time past Int64 nanoseconds is skipped, not wrapped (prometheus/crash-ccfbacbc…)")
    func scrapeTimestampOverflow() throws {
        let converter = ScrapeConverter(instance: "127.0.0.1:9400", job: "dcgm")
        let far = PrometheusSample(name: "M", labels: [.init("UUID", "GPU-1")], value: 1, timestampMillis: 175_287_135_404_000)
        let near = PrometheusSample(name: "M", labels: [.init("UUID", "GPU-1")], value: 2, timestampMillis: 1_752_871_354_000)
        let (records, skipped) = try converter.records(from: [far, near], scrapeTime: 0)
        #expect(skipped == 1)
        #expect(records.map(\.timestamp) == [1_752_871_354_000_000_000])
    }
}
