import ArgumentParser

struct QueryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "query")
    func run() async throws { throw ValidationError("not yet") }
}
