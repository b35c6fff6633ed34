import ArgumentParser

/// The dcgm-exporter targets a streamer polls, shared by `streamer` and `run`. Each flag also
/// reads its environment variable (the flag wins).
struct ScrapeOptions: ParsableArguments {
    @Option(help: "dcgm-exporter /metrics URL to poll (with `run`: instead of the sample); repeatable (env SCRAPE_URLS, comma-separated).")
    var scrape: [String] = Env.string("SCRAPE_URLS", "").split(separator: ",").map(String.init)
    @Option(name: .customLong("scrape-interval"), help: "Seconds between scrapes (env SCRAPE_INTERVAL).")
    var scrapeInterval: Double = Double(Env.string("SCRAPE_INTERVAL", "")) ?? 15

    /// `--scrape-interval` as a duration.
    var interval: Duration { .milliseconds(Int64(scrapeInterval * 1000)) }
}
