import ArgumentParser
import TSDB

/// The engine bounds of a role that serves queries and takes writes (`run`, `api`):
/// `--query-timeout`, `--max-future` and the new-series limits. Each flag also reads its
/// environment variable (the flag wins).
struct EngineLimitOptions: ParsableArguments {
    @Option(name: .customLong("query-timeout"), help: "Longest a query may run before it stops with 503, e.g. 30s; off disables (env QUERY_TIMEOUT; default 30s).")
    var queryTimeout: String?
    @OptionGroup var maxFuture: MaxFutureOption
    @OptionGroup var seriesLimitOptions: SeriesLimitOptions

    /// Sets the query timeout, the future bound and the series limits of `options`.
    func apply(to options: inout TSDBOptions) throws {
        options.queryTimeout = try timeout()
        options.maxFuture = try maxFuture.nanoseconds()
        options.seriesLimits = try seriesLimitOptions.seriesLimits()
    }

    /// `--query-timeout` / `QUERY_TIMEOUT`: a duration, or `off`; unset keeps the default (30 s).
    private func timeout() throws -> Int64? {
        guard let text = Env.text(queryTimeout, "QUERY_TIMEOUT") else { return TSDBOptions(directory: "").queryTimeout }
        if ["off", "none", "0"].contains(text.lowercased()) { return nil }
        return try FlagValues.nanoseconds(text, flag: "--query-timeout (or QUERY_TIMEOUT; off disables it)", positive: true)
    }
}

/// `--max-future` (env MAX_FUTURE): how far ahead of the clock a sample may be; every command
/// that writes to a data directory has it.
struct MaxFutureOption: ParsableArguments {
    @Option(name: .customLong("max-future"), help: "Refuse samples more than this far ahead of the clock, e.g. 10m; off accepts any (env MAX_FUTURE; default 10m).")
    var maxFuture: String?

    /// A duration, or `off` (nil: any timestamp); unset keeps the default (10 m).
    func nanoseconds() throws -> Int64? {
        guard let text = Env.text(maxFuture, "MAX_FUTURE") else { return TSDBOptions(directory: "").maxFuture }
        if ["off", "none"].contains(text.lowercased()) { return nil }
        return try FlagValues.nanoseconds(text, flag: "--max-future (or MAX_FUTURE; off accepts any timestamp)")
    }
}
