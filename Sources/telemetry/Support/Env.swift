import ArgumentParser
import Foundation

/// The environment variables behind the flags: every role flag falls back to one (the flag
/// wins), and an empty variable counts as unset.
///
/// ```swift
/// let burst = try Env.number(rateLimitBurst, "RATE_LIMIT_BURST", flag: "--rate-limit-burst")  // nil: neither set
/// ```
enum Env {
    static func string(_ name: String) -> String? { text(nil, name) }

    static func string(_ name: String, _ fallback: String) -> String { string(name) ?? fallback }

    /// The flag's text, else the variable's from `environment`, else nil.
    static func text(_ flag: String?, _ variable: String,
                     environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let flag { return flag }
        guard let value = environment[variable], !value.isEmpty else { return nil }
        return value
    }

    /// A whole-number flag, else its variable; a variable that is not one is an error naming both.
    static func integer(_ flag: Int?, _ variable: String, flag name: String,
                        environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Int? {
        try parsed(flag, variable, flag: name, kind: "a whole number", environment: environment)
    }

    /// A number flag, else its variable; a variable that is not one is an error naming both.
    static func number(_ flag: Double?, _ variable: String, flag name: String,
                       environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Double? {
        try parsed(flag, variable, flag: name, kind: "a number", environment: environment)
    }

    private static func parsed<T: LosslessStringConvertible>(_ flag: T?, _ variable: String, flag name: String, kind: String,
                                                            environment: [String: String]) throws -> T? {
        if let flag { return flag }
        guard let text = text(nil, variable, environment: environment) else { return nil }
        guard let value = T(text) else { throw ValidationError("\(variable) \"\(text)\" is not \(kind) (\(name))") }
        return value
    }
}
