import ArgumentParser
import Ingest

/// How a streamer replays CSV rows, shared by `streamer` and `run`: which timestamps it sends
/// and how fast. Each flag also reads its environment variable (the flag wins).
struct ReplayOptions: ParsableArguments {
    @Option(help: "original, now or shift; default shift when replaying in a loop (streamer --loop, run without --once), else original (env STREAMER_TIMESTAMPS).")
    var timestamps: String = Env.string("STREAMER_TIMESTAMPS", "")
    @Option(help: "Rows per second; 0 sends as fast as the broker accepts (env STREAMER_RATE).")
    var rate: Double = Double(Env.string("STREAMER_RATE", "")) ?? 0

    /// `--timestamps`, nil when not given (the streamer then picks by whether it loops).
    func mode() throws -> TimestampMode? {
        guard !timestamps.isEmpty else { return nil }
        guard let mode = TimestampMode(rawValue: timestamps) else { throw ValidationError("--timestamps must be original, now or shift") }
        return mode
    }

    /// `--rate`, nil for as fast as it goes.
    var rowsPerSecond: Double? { rate > 0 ? rate : nil }
}
