import ArgumentParser

@main
struct Telemetry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "telemetry",
        abstract: "A time-series database for GPU fleet telemetry (DCGM), with its ingest pipeline.",
        subcommands: [
            RunCommand.self,
            ImportCommand.self, QueryCommand.self, StatsCommand.self, FlushCommand.self, CheckCommand.self,
            APICommand.self, BrokerCommand.self, ProxyCommand.self, StreamerCommand.self, CollectorCommand.self,
        ]
    )
}
