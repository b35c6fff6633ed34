import ArgumentParser

struct FlushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "flush")
    func run() async throws { throw ValidationError("not yet") }
}
