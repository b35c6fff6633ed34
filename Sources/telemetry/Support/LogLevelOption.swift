import ArgumentParser
import Logging

/// `--log-level` (env LOG_LEVEL, default info), shared by every role command; an unknown level
/// is refused before anything starts, never silently read as info.
///
/// ```swift
/// @OptionGroup var logging: LogLevelOption
/// let logger = try logging.logger(label: "telemetry.broker")
/// ```
struct LogLevelOption: ParsableArguments {
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error, critical (env LOG_LEVEL).")
    var logLevel: String = Env.string("LOG_LEVEL", "info")

    /// A logger labelled `label` at the chosen level.
    func logger(label: String) throws -> Logger {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("--log-level \(logLevel) is not one of trace, debug, info, notice, warning, error, critical")
        }
        var logger = Logger(label: label)
        logger.logLevel = level
        return logger
    }
}
