import ArgumentParser
import Foundation
import Primitives
import TSDB

struct QueryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Query a data directory: raw samples or step aggregates, grouped by labels.",
        discussion: """
            Times are RFC 3339, epoch seconds/ms/µs/ns (told apart by magnitude), `now` or `now-1h`; \
            both ends are inclusive. Matchers: name=value, name!=value, name=~regex, name!~regex \
            (regexes are anchored). Aggregations: avg min max sum count first last p50 p90 p95 p99. \
            Step buckets are aligned to multiples of the step since the epoch and reported at their start.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json, csv }

    @OptionGroup var storage: StorageOptions

    @Option(help: "Metric name (__name__).")
    var metric: String?

    @Option(name: .customLong("match"), help: "Label matcher, repeatable: 'Hostname=host-1', 'gpu=~\"0|1\"'.")
    var matchers: [String] = []

    @Option(help: "Start of the range (inclusive; default: the oldest sample).")
    var start: String?

    @Option(help: "End of the range (inclusive; default: the newest sample).")
    var end: String?

    @Option(help: "Bucket width, e.g. 60s, 1m, 1h (needs or implies --agg, default avg).")
    var step: String?

    @Option(help: "Aggregation: \(Aggregation.allCases.map(\.rawValue).joined(separator: ", ")).")
    var agg: Aggregation?

    @Option(name: .customLong("group-by"), help: "Comma-separated labels to aggregate across series by (empty string: all together).")
    var groupBy: String?

    @Option(help: "Most series the result may have; more is an error.")
    var limit: Int?

    @OptionGroup var queryLimitOptions: QueryLimitOptions

    @Option(help: "Output: table, json or csv.")
    var format: Format = .table

    @Flag(help: "Print the plan instead of running the query.")
    var explain = false

    func run() async throws {
        var q = Query()
        q.metric = metric
        do {
            q.matchers = try matchers.map { try LabelMatcher(parsing: $0) }
        } catch {
            throw ValidationError("\(error)")
        }
        if let start { q.start = try FlagValues.time(start, flag: "--start") }
        if let end { q.end = try FlagValues.time(end, flag: "--end") }
        if let step { q.step = try FlagValues.nanoseconds(step, flag: "--step", positive: true) }
        q.aggregation = agg
        if let groupBy { q.groupBy = groupBy.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
        q.limit = limit
        q.limits = try queryLimitOptions.queryLimits()

        let db = try await TSDB.open(try storage.tsdbOptions())
        do {
            if explain {
                let plan = try db.explain(q)
                try await db.close()
                printPlan(plan)
                return
            }
            let result = try db.query(q)
            try await db.close()
            switch format {
            case .json: printJSON(result)
            case .csv: printCSV(result)
            case .table: printTable(result)
            }
        } catch let e as TSDBError {
            try? await db.close()
            FileHandle.standardError.write(Data("error: \(e)\n".utf8))
            throw ExitCode(2)
        }
    }

    private func printPlan(_ p: QueryPlan) {
        if format == .json {
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            enc.keyEncodingStrategy = .convertToSnakeCase
            if let data = try? enc.encode(p) { print(String(decoding: data, as: UTF8.self)) }
            return
        }
        print("series selection:")
        for s in p.steps { print("  \(s)") }
        print("series matched:       \(p.seriesMatched)")
        print("blocks:               \(p.blocks.isEmpty ? "-" : p.blocks.joined(separator: ", "))")
        print("chunks:               \(p.chunksTotal) in range (\(p.chunksSummarizable) from summaries, \(p.chunksToDecode) to decode), \(p.chunksPruned) pruned by time")
        print("series with head data: \(p.headSeries)")
        print("samples to decode:    \(p.estimatedSamples)")
        print("series returned:      at most \(p.seriesReturned) (answer about \(p.estimatedResultBytes) bytes)")
        print("aggregation:          \(p.aggregation ?? "none (raw)")\(p.step.map { ", step \($0 / 1_000_000) ms" } ?? "")\(p.groupBy.map { ", group by [\($0.joined(separator: ","))]" } ?? "")")
    }

    private func printJSON(_ r: QueryResult) {
        var out = "{\"series\": ["
        for (k, s) in r.series.enumerated() {
            if k > 0 { out += ", " }
            out += "{\"labels\": {"
            out += s.labels.pairs.map { "\(JSONFormat.quoted($0.name)): \(JSONFormat.quoted($0.value))" }.joined(separator: ", ")
            out += "}, \"samples\": ["
            for i in s.timestamps.indices {
                if i > 0 { out += ", " }
                out += "[\(Self.millis(s.timestamps[i])), \(JSONFormat.number(s.values[i]))]"
            }
            out += "]}"
        }
        let st = r.stats
        out += "], \"stats\": {\"series_matched\": \(st.seriesMatched), \"series_returned\": \(st.seriesReturned), "
        out += "\"samples_returned\": \(st.samplesReturned), \"samples_scanned\": \(st.samplesScanned), "
        out += "\"blocks_touched\": \(st.blocksTouched), \"chunks_total\": \(st.chunksTotal), \"chunks_summarized\": \(st.chunksSummarized), "
        out += "\"chunks_decoded\": \(st.chunksDecoded), \"chunks_pruned\": \(st.chunksPruned), \"head_series\": \(st.headSeries), "
        out += "\"duration_ms\": \(JSONFormat.number(Double(st.durationNanos) / 1e6))}}"
        print(out)
    }

    private func printCSV(_ r: QueryResult) {
        var names = Set<String>()
        for s in r.series { for l in s.labels { names.insert(l.name) } }
        let cols = names.sorted()
        func quote(_ s: String) -> String { s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + s.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\"" : s }
        print((cols + ["timestamp", "value"]).map(quote).joined(separator: ","))
        for s in r.series {
            let prefix = cols.map { quote(s.labels[$0] ?? "") }
            for i in s.timestamps.indices {
                print((prefix + [RFC3339.format(s.timestamps[i]), Self.text(s.values[i])]).joined(separator: ","))
            }
        }
    }

    private func printTable(_ r: QueryResult) {
        for s in r.series {
            print(s.labels.description)
            for i in s.timestamps.indices {
                print("  \(RFC3339.format(s.timestamps[i]))  \(Self.text(s.values[i]))")
            }
        }
        let st = r.stats
        FileHandle.standardError.write(Data("\(st.seriesReturned) series, \(st.samplesReturned) points; scanned \(st.samplesScanned) samples, \(st.chunksSummarized) chunks from summaries, \(st.chunksDecoded) decoded; \(String(format: "%.2f", Double(st.durationNanos) / 1e6)) ms\n".utf8))
    }
}

extension Aggregation: ExpressibleByArgument {}

extension QueryCommand {
    /// Unix milliseconds: an integer when exact, else with the sub-millisecond fraction.
    static func millis(_ ns: Int64) -> String {
        if ns % 1_000_000 == 0 { return String(ns / 1_000_000) }
        return "\(Double(ns) / 1e6)"
    }

    /// A value for the table and CSV output: JSON's number text, and NaN / +Inf / -Inf by name
    /// (JSON output writes those as null).
    static func text(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        return JSONFormat.number(v)
    }
}
