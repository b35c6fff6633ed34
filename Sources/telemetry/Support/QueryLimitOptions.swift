import ArgumentParser
import Foundation
import TSDB

/// The bounds of one query (``QueryLimits``) that `api` and `query` share. Each flag also
/// reads its environment variable (the flag wins); unset, the default of ``QueryLimits``.
struct QueryLimitOptions: ParsableArguments {
    @Option(name: .customLong("max-series"), help: "Most series (or groups) one query may return; aggregations over more run (env QUERY_MAX_SERIES; default 1000000).")
    var maxSeries: Int?
    @Option(name: .customLong("max-samples"), help: "Most samples one query may decode; chunks answered from summaries are free (env QUERY_MAX_SAMPLES; default 1000000000).")
    var maxSamples: Int?
    @Option(name: .customLong("max-result-bytes"), help: "Most bytes one query's answer may take in memory (env QUERY_MAX_RESULT_BYTES; default 1073741824).")
    var maxResultBytes: Int?

    /// The limits: flag, else environment, else the default.
    func queryLimits(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> QueryLimits {
        var limits = QueryLimits()
        if let v = try Env.integer(maxSeries, "QUERY_MAX_SERIES", flag: "--max-series", environment: environment) { limits.maxSeries = v }
        if let v = try Env.integer(maxSamples, "QUERY_MAX_SAMPLES", flag: "--max-samples", environment: environment) { limits.maxSamples = v }
        if let v = try Env.integer(maxResultBytes, "QUERY_MAX_RESULT_BYTES", flag: "--max-result-bytes", environment: environment) {
            limits.maxResultBytes = v
        }
        return limits
    }
}
