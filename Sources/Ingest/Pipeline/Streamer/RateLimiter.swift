import Foundation

/// Spaces sends so that on average at most `rate` rows per second go out (nil: unlimited).
struct RateLimiter {
    let rate: Double?
    private var start: ContinuousClock.Instant?
    private var sent = 0.0

    init(rate: Double?) { self.rate = rate }

    mutating func acquire(_ rows: Int) async throws {
        guard let rate, rows > 0 else { return }
        let now = ContinuousClock.now
        let origin = start ?? now
        start = origin
        let due = origin + .nanoseconds(Int64(sent / rate * 1e9))
        sent += Double(rows)
        if due > now { try await Task.sleep(until: due, clock: .continuous) }
    }
}
