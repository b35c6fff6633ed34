import Foundation
import Primitives

/// Bounds on the series a write may create, checked where new series are resolved
/// (``TSDB/resolve(_:)``), so every write path (HTTP, collector, import, remote_write) gets
/// them. Only new series are checked: a series already in the catalog is always accepted.
///
/// Partial batches: a call to `resolve` that would create a series over a per-series limit
/// (labels, name or value length), more new series than ``maxNewSeriesPerRequest``, or more
/// than ``maxNewSeriesPerHour`` allows, throws ``TSDBError/seriesRefused(_:detail:retryAfter:)`` and
/// creates none of its series; a caller that resolves before it appends (every write path
/// does) therefore stores nothing from that request.
public struct SeriesLimits: Sendable, Equatable {
    /// Most labels a new series may have, `__name__` included (default 30; nil: no bound).
    public var maxLabelsPerSeries: Int? = 30
    /// Longest label name in bytes of UTF-8 (default 256).
    public var maxLabelNameLength: Int? = 256
    /// Longest label value in bytes of UTF-8 (default 4 KiB).
    public var maxLabelValueLength: Int? = 4096
    /// Most new series one resolve call (one request or batch) may create (default 100,000).
    public var maxNewSeriesPerRequest: Int? = 100_000
    /// Most new series created in one clock hour (a fixed window aligned to the hour of
    /// ``TSDBOptions/clock``; default nil: no bound).
    public var maxNewSeriesPerHour: Int? = nil

    public init() {}
}

/// Which bound refused a write, with the flag and environment variable that set it.
public enum SeriesLimit: String, Sendable, CaseIterable {
    case labelsPerSeries = "max_labels_per_series"
    case labelNameLength = "max_label_name_length"
    case labelValueLength = "max_label_value_length"
    case newSeriesPerRequest = "max_new_series_per_request"
    case newSeriesPerHour = "max_new_series_per_hour"

    /// The command-line flag (`--max-labels-per-series`, …).
    public var flag: String { "--" + rawValue.replacingOccurrences(of: "_", with: "-") }
    /// The environment variable (`MAX_LABELS_PER_SERIES`, …).
    public var environment: String { rawValue.uppercased() }
}

/// The running count of series created in the current clock hour.
struct NewSeriesBudget: Sendable {
    var hourStart: Int64 = Int64.min
    var created = 0

    /// Seconds until the current hour ends (at least 1), for `Retry-After`.
    static func secondsLeft(now: Int64) -> Int {
        let start = now - ((now % Nanos.hour) + Nanos.hour) % Nanos.hour
        return max(1, Int((start + Nanos.hour - now + Nanos.second - 1) / Nanos.second))
    }

    /// Takes `count` from the budget of the hour of `now`, or throws (taking nothing).
    mutating func take(_ count: Int, limit: Int?, now: Int64) throws(TSDBError) {
        let start = now - ((now % Nanos.hour) + Nanos.hour) % Nanos.hour
        if start != hourStart { hourStart = start; created = 0 }
        guard let limit else { created += count; return }
        guard created + count <= limit else {
            throw TSDBError.seriesRefused(.newSeriesPerHour, detail:
                "\(count) new series would exceed the budget of \(limit) new series per hour (\(created) created this hour); "
                + "retry after \(Self.secondsLeft(now: now)) s", retryAfter: Self.secondsLeft(now: now))
        }
        created += count
    }
}

extension SeriesLimits {
    /// Throws when `labels`, a series about to be created, is over a per-series bound.
    func check(_ labels: Labels) throws(TSDBError) {
        if let max = maxLabelsPerSeries, labels.count > max {
            throw TSDBError.seriesRefused(.labelsPerSeries, detail: "series \(Self.short(labels)) has \(labels.count) labels, over the limit of \(max)")
        }
        for l in labels {
            if let max = maxLabelNameLength, l.name.utf8.count > max {
                throw TSDBError.seriesRefused(.labelNameLength, detail:
                    "label name \"\(l.name.prefix(64))…\" is \(l.name.utf8.count) bytes, over the limit of \(max) (series \(Self.short(labels)))")
            }
            if let max = maxLabelValueLength, l.value.utf8.count > max {
                throw TSDBError.seriesRefused(.labelValueLength, detail:
                    "the value of label \"\(l.name.prefix(64))\" is \(l.value.utf8.count) bytes, over the limit of \(max) (series \(Self.short(labels)))")
            }
        }
    }

    /// A series named briefly enough for an error message.
    static func short(_ labels: Labels) -> String {
        let d = labels.description
        return d.utf8.count <= 200 ? d : String(d.prefix(200)) + "…"
    }
}
