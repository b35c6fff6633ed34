import ArgumentParser

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check")
    func run() async throws { throw ValidationError("not yet") }
}
