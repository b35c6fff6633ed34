/// A handle for a series inside one database: its catalog id. Valid only for the database
/// that returned it from ``TSDB/resolve(_:)``.
public struct SeriesRef: Hashable, Sendable, Comparable {
    public let id: UInt32
    package init(_ id: UInt32) { self.id = id }
    public static func < (a: SeriesRef, b: SeriesRef) -> Bool { a.id < b.id }
}

/// A column-oriented batch of samples for ``TSDB/append(_:)``: sample `i` is
/// (`refs[i]`, `timestamps[i]`, `values[i]`). Timestamps are nanoseconds since the epoch.
public struct SampleBatch: Sendable {
    public var refs: [UInt32]
    public var timestamps: [Int64]
    public var values: [Double]

    public init(capacity: Int = 0) {
        refs = []; timestamps = []; values = []
        refs.reserveCapacity(capacity)
        timestamps.reserveCapacity(capacity)
        values.reserveCapacity(capacity)
    }

    @inlinable
    public mutating func append(_ ref: SeriesRef, _ timestamp: Int64, _ value: Double) {
        refs.append(ref.id)
        timestamps.append(timestamp)
        values.append(value)
    }

    public var count: Int { refs.count }
    public var isEmpty: Bool { refs.isEmpty }

    public mutating func removeAll(keepingCapacity: Bool = true) {
        refs.removeAll(keepingCapacity: keepingCapacity)
        timestamps.removeAll(keepingCapacity: keepingCapacity)
        values.removeAll(keepingCapacity: keepingCapacity)
    }
}

/// One sample with its full label set: the convenient (slower) write form.
public struct LabeledSample: Sendable, Hashable {
    public var labels: Labels
    public var timestamp: Int64
    public var value: Double
    public init(labels: Labels, timestamp: Int64, value: Double) {
        self.labels = labels
        self.timestamp = timestamp
        self.value = value
    }
}

/// What an append did. Refused samples are counted here, never dropped silently: those
/// outside the out-of-order window and those too far ahead of the wall clock
/// (``TSDBOptions/maxFuture``). Everything else in the batch was stored.
public struct AppendResult: Sendable, Equatable {
    public var appended: Int = 0
    public var outOfWindow: Int = 0
    public var tooFarInFuture: Int = 0
    public init(appended: Int = 0, outOfWindow: Int = 0, tooFarInFuture: Int = 0) {
        self.appended = appended
        self.outOfWindow = outOfWindow
        self.tooFarInFuture = tooFarInFuture
    }

    /// Samples of the batch that were not stored.
    public var refused: Int { outOfWindow + tooFarInFuture }

    /// What to tell a writer whose samples were refused as too far in the future (nil when
    /// none were): the limit, the flag that sets it, and exactly what was stored.
    public func futureRefusal(maxFuture: Int64?) -> String? {
        guard tooFarInFuture > 0 else { return nil }
        let limit = maxFuture.map { TSDBError.seconds($0) } ?? "the limit"
        var m = "\(tooFarInFuture) sample\(tooFarInFuture == 1 ? " is" : "s are") more than \(limit) ahead of the server clock "
            + "(--max-future, env MAX_FUTURE) and were not stored; \(appended) sample\(appended == 1 ? " was" : "s were") stored"
        if outOfWindow > 0 { m += "; \(outOfWindow) fell outside the out-of-order window and were not stored" }
        return m
    }
}
