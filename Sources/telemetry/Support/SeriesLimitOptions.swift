import ArgumentParser
import Foundation
import TSDB

/// The new-series bounds (``SeriesLimits``) every command that writes to a data directory
/// shares: `run`, `api`, `collector --data-dir`, `import`. Each flag also reads its
/// environment variable (the flag wins); `off` removes a bound.
struct SeriesLimitOptions: ParsableArguments {
    @Option(name: .customLong("max-labels-per-series"), help: "Most labels a new series may have, __name__ included; off: no bound (env MAX_LABELS_PER_SERIES; default 30).")
    var maxLabelsPerSeries: String?
    @Option(name: .customLong("max-label-name-length"), help: "Longest label name of a new series, in bytes; off: no bound (env MAX_LABEL_NAME_LENGTH; default 256).")
    var maxLabelNameLength: String?
    @Option(name: .customLong("max-label-value-length"), help: "Longest label value of a new series, in bytes; off: no bound (env MAX_LABEL_VALUE_LENGTH; default 4096).")
    var maxLabelValueLength: String?
    @Option(name: .customLong("max-new-series-per-request"), help: "Most new series one request or batch may create; off: no bound (env MAX_NEW_SERIES_PER_REQUEST; default 100000, for import off: a fleet's file creates all its series in its first batches).")
    var maxNewSeriesPerRequest: String?
    @Option(name: .customLong("max-new-series-per-hour"), help: "Most new series created per clock hour; over it writes creating series get 429 (env MAX_NEW_SERIES_PER_HOUR; default off).")
    var maxNewSeriesPerHour: String?

    /// The limits: flag, else environment, else `defaults` (those of ``SeriesLimits`` unless
    /// the command says otherwise).
    func seriesLimits(defaults: SeriesLimits = SeriesLimits(),
                      environment: [String: String] = ProcessInfo.processInfo.environment) throws -> SeriesLimits {
        var l = defaults
        func read(_ flag: String?, _ limit: SeriesLimit, _ value: inout Int?) throws {
            guard let text = Env.text(flag, limit.environment, environment: environment) else { return }
            if ["off", "none"].contains(text.lowercased()) { value = nil; return }
            guard let n = Int(text), n >= 1 else {
                throw ValidationError("\(limit.flag) (or \(limit.environment)) must be a whole number of at least 1, or off; got \"\(text)\"")
            }
            value = n
        }
        try read(maxLabelsPerSeries, .labelsPerSeries, &l.maxLabelsPerSeries)
        try read(maxLabelNameLength, .labelNameLength, &l.maxLabelNameLength)
        try read(maxLabelValueLength, .labelValueLength, &l.maxLabelValueLength)
        try read(maxNewSeriesPerRequest, .newSeriesPerRequest, &l.maxNewSeriesPerRequest)
        try read(maxNewSeriesPerHour, .newSeriesPerHour, &l.maxNewSeriesPerHour)
        return l
    }
}
