/// A failure of `telemetry run` at run time (not a bad flag): printed as "Error: <message>".
struct RunError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
