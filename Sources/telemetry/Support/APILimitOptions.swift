import APIServer
import ArgumentParser
import Foundation

/// The API's request limits `run` and `api` share: Grafana targets per query and open live
/// streams. Each flag also reads its environment variable (the flag wins).
struct APILimitOptions: ParsableArguments {
    @Option(name: .customLong("max-grafana-targets"), help: "Most targets one Grafana /grafana/query request may carry; 400 above (env MAX_GRAFANA_TARGETS; default 100).")
    var maxGrafanaTargets: Int?
    @Option(name: .customLong("max-stream-subscribers"), help: "Most live streams (SSE) open at once; 429 above (env MAX_STREAM_SUBSCRIBERS; default 256).")
    var maxStreamSubscribers: Int?

    /// Sets the two limits on `config`: flag, else environment, else the config's default.
    func apply(to config: inout APIServerConfig, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        if let n = try Env.integer(maxGrafanaTargets, "MAX_GRAFANA_TARGETS", flag: "--max-grafana-targets", environment: environment) {
            config.maxGrafanaTargets = n
        }
        if let n = try Env.integer(maxStreamSubscribers, "MAX_STREAM_SUBSCRIBERS", flag: "--max-stream-subscribers", environment: environment) {
            config.maxStreamSubscribers = n
        }
    }
}
