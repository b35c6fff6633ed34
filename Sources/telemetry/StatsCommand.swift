import ArgumentParser

struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stats")
    func run() async throws { throw ValidationError("not yet") }
}
