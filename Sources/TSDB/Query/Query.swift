import Foundation
import Primitives

/// A label matcher as in PromQL: `=`, `!=`, `=~`, `!~`. Regular expressions use RE2 syntax
/// and semantics, as Prometheus does, are anchored at both ends (`^(?s:re)$`) and match in
/// time linear in the value (no backtracking). A matcher on a missing label sees the empty
/// string, so `namespace=""` selects series without a namespace.
public struct LabelMatcher: Sendable, CustomStringConvertible {
    public enum Operator: String, Sendable, CaseIterable {
        case equal = "=", notEqual = "!=", regex = "=~", notRegex = "!~"
    }

    public let name: String
    public let op: Operator
    public let value: String
    private let regex: RE2Regex?

    /// - Throws: ``TSDBError/invalidQuery(_:)`` naming the matcher when its regular
    ///   expression does not compile.
    public init(_ name: String, _ op: Operator, _ value: String) throws(TSDBError) {
        guard !name.isEmpty else { throw .invalidQuery("a matcher needs a label name") }
        self.name = name
        self.op = op
        self.value = value
        if op == .regex || op == .notRegex {
            do {
                regex = try RE2Regex(value)
            } catch {
                throw .invalidQuery("invalid regular expression in \(name)\(op.rawValue)\"\(value)\": \(error.reason) (RE2 syntax, as in Prometheus)")
            }
        } else {
            regex = nil
        }
    }

    /// An equality matcher on a known, non-empty label name (cannot fail).
    init(equal name: String, _ value: String) {
        self.name = name
        self.op = .equal
        self.value = value
        self.regex = nil
    }

    /// Parses `name=value`, `name!=value`, `name=~regex`, `name!~regex`; the value may be
    /// double-quoted (`name="a,b"`).
    public init(parsing text: String) throws(TSDBError) {
        let chars = Array(text)
        guard let opIndex = chars.firstIndex(where: { $0 == "=" || $0 == "!" }) else {
            throw .invalidQuery("matcher \"\(text)\" has no operator; use name=value, name!=value, name=~regex or name!~regex")
        }
        let name = String(chars[..<opIndex]).trimmingCharacters(in: .whitespaces)
        var rest = chars[opIndex...]
        let op: Operator
        if rest.starts(with: "=~") { op = .regex; rest = rest.dropFirst(2) }
        else if rest.starts(with: "!~") { op = .notRegex; rest = rest.dropFirst(2) }
        else if rest.starts(with: "!=") { op = .notEqual; rest = rest.dropFirst(2) }
        else if rest.starts(with: "=") { op = .equal; rest = rest.dropFirst(1) }
        else { throw .invalidQuery("matcher \"\(text)\" has no operator; use =, !=, =~ or !~") }
        var value = String(rest)
        if value.count >= 2, value.first == "\"", value.last == "\"" {
            value = String(value.dropFirst().dropLast())
        }
        try self.init(name, op, value)
    }

    /// Whether a label value (empty when the label is absent) satisfies the matcher.
    public func matches(_ labelValue: String) -> Bool {
        switch op {
        case .equal: return labelValue == value
        case .notEqual: return labelValue != value
        case .regex: return regex!.matches(labelValue)
        case .notRegex: return !regex!.matches(labelValue)
        }
    }

    /// True when the matcher selects series that lack the label (it matches "").
    public var matchesEmpty: Bool { matches("") }

    /// Whether this is `=~` or `!~` (matched through the engine's cache of regex results).
    var isRegex: Bool { regex != nil }

    /// The regex's own verdict on a value, whatever the operator (`=~` and `!~` share it).
    func regexMatches(_ labelValue: String) -> Bool { regex?.matches(labelValue) ?? false }

    public var description: String { "\(name)\(op.rawValue)\"\(value)\"" }
}

/// How samples are combined inside a step bucket (and across series of one group).
public enum Aggregation: String, Sendable, CaseIterable, Codable {
    case avg, min, max, sum, count, first, last, p50, p90, p95, p99

    /// Aggregations that chunk summaries can answer without decoding.
    public var summarizable: Bool {
        switch self {
        case .avg, .min, .max, .sum, .count, .first, .last: return true
        case .p50, .p90, .p95, .p99: return false
        }
    }

    public var quantile: Double? {
        switch self {
        case .p50: return 0.5
        case .p90: return 0.9
        case .p95: return 0.95
        case .p99: return 0.99
        default: return nil
        }
    }
}

/// A read: which series, which time range (inclusive at both ends, nanoseconds), and
/// optionally a step aggregation and a grouping.
///
/// ```swift
/// var q = Query(start: t0, end: t1)
/// q.metric = "DCGM_FI_DEV_GPU_UTIL"
/// q.matchers = [try LabelMatcher(parsing: "Hostname=mtv5-dgx1-hgpu-012")]
/// q.step = 60 * Nanos.second; q.aggregation = .avg
/// let result = try db.query(q)
/// ```
public struct Query: Sendable {
    public var metric: String?
    /// Several metric names: a series matches when its name is any of them (and `metric`,
    /// when also set). Resolved as a union of the names' postings, never as a regex.
    public var metrics: [String] = []
    public var matchers: [LabelMatcher] = []
    public var start: Int64
    public var end: Int64
    /// Bucket width in nanoseconds. Buckets are aligned to multiples of the step since the
    /// epoch and reported at their start. With an aggregation and no step, one bucket covers
    /// the whole range and is reported at `start`.
    public var step: Int64?
    public var aggregation: Aggregation?
    /// nil: one result per series. Otherwise series with equal values of these labels are
    /// aggregated together (an empty list puts every series in one group).
    public var groupBy: [String]?
    /// Most series returned (after grouping); more is an error, not a silent cut.
    public var limit: Int?
    /// Overrides the database's limits for this query when set.
    public var limits: QueryLimits?
    /// Overrides ``TSDBOptions/queryTimeout`` (nanoseconds) for this query when set; the
    /// query stops with ``TSDBError/queryTimeout(limit:)`` once it runs longer.
    public var timeout: Int64?
    /// Raw queries only: the caller needs only the earliest `n` samples from `start`, all
    /// series together in time order (a page of a long window). The planner then narrows the
    /// range's end, from chunk and head counts alone, to where at least `n` samples (plus one
    /// per series, for ties at a cursor) lie, so about `n` samples are decoded, not the window.
    /// Every sample up to the narrowed end is returned; later ones are left out.
    public var earliestSamples: Int?

    public init(metric: String? = nil, matchers: [LabelMatcher] = [], start: Int64 = .min, end: Int64 = .max) {
        self.metric = metric
        self.matchers = matchers
        self.start = start
        self.end = end
    }
}

/// One series (or group) of a result, samples in ascending time order.
public struct SeriesResult: Sendable {
    public var labels: Labels
    public var timestamps: [Int64]
    public var values: [Double]
    public init(labels: Labels, timestamps: [Int64], values: [Double]) {
        self.labels = labels
        self.timestamps = timestamps
        self.values = values
    }
}

/// What a query did; the counts that ``QueryPlan`` predicts, measured.
public struct QueryStats: Sendable, Codable, Equatable {
    public var seriesMatched = 0
    public var seriesReturned = 0
    public var blocksTouched = 0
    public var chunksTotal = 0
    public var chunksSummarized = 0
    public var chunksDecoded = 0
    public var chunksPruned = 0
    public var headSeries = 0
    public var samplesScanned = 0
    public var samplesReturned = 0
    public var durationNanos: Int64 = 0
    public init() {}
}

public struct QueryResult: Sendable {
    public var series: [SeriesResult]
    public var stats: QueryStats
}

/// The plan a query would run: how matchers resolve and what it would touch.
public struct QueryPlan: Sendable, Codable {
    /// Matchers in the order they are applied (cheapest posting list first) with the number
    /// of series left after each.
    public var steps: [String]
    public var seriesMatched: Int
    public var blocks: [String]
    public var chunksTotal: Int
    public var chunksSummarizable: Int
    public var chunksToDecode: Int
    public var chunksPruned: Int
    public var headSeries: Int
    /// Samples the query decodes (chunks not answered from summaries, and head samples).
    public var estimatedSamples: Int
    /// Series (or groups) the answer holds at most.
    public var seriesReturned: Int
    /// Bytes the answer takes in memory, estimated as the limits count them.
    public var estimatedResultBytes: Int
    /// The range's end as executed: ``Query/end``, or earlier where ``Query/earliestSamples``
    /// narrowed it.
    public var end: Int64
    public var aggregation: String?
    public var step: Int64?
    public var groupBy: [String]?
}
