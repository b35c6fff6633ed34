import Primitives

/// Exponential backoff with full jitter, bounded in attempts: the n-th retry waits a random time
/// in `[0, min(maxDelay, baseDelay · 2ⁿ)]`, or the server's `Retry-After` when it gave one (capped
/// by `maxDelay`). Every wait is cancellable, so a stopping role never hangs on a dead peer.
///
/// ```swift
/// let policy = RetryPolicy(attempts: 3)
/// let ids = try await policy.run(onRetry: { _, _ in retries += 1 }) {
///     try await broker.produce(topic: "telemetry", partition: 0, payloads: [doc])
/// }
/// ```
package struct RetryPolicy: Sendable, Equatable {
    /// Total tries, the first included (at least 1).
    package var attempts: Int
    package var baseDelay: Duration
    package var maxDelay: Duration

    package init(attempts: Int = 3, baseDelay: Duration = .milliseconds(100), maxDelay: Duration = .seconds(5)) {
        self.attempts = max(1, attempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// The wait before retry number `retry` (0-based), before jitter.
    package func ceiling(retry: Int) -> Duration {
        let factor = 1 << min(retry, 20)
        let d = baseDelay * factor
        return d > maxDelay ? maxDelay : d
    }

    /// The jittered wait before retry number `retry`.
    package func delay(retry: Int, retryAfter: Duration? = nil) -> Duration {
        if let after = retryAfter { return after > maxDelay ? maxDelay : after }
        let ceilingNanos = max(Int64(1), ceiling(retry: retry).nanoseconds)
        return .nanoseconds(Int64.random(in: 0...ceilingNanos))
    }

    /// Runs `body` until it succeeds, fails with an error that is not retryable, or runs out of
    /// attempts (then the last error is thrown). `onRetry` sees each retryable failure.
    package func run<T: Sendable>(
        isRetryable: @Sendable (any Error) -> Bool = RetryPolicy.defaultIsRetryable,
        onRetry: (Int, any Error) -> Void = { _, _ in },
        _ body: () async throws -> T
    ) async throws -> T {
        var retry = 0
        while true {
            do {
                return try await body()
            } catch {
                if error is CancellationError || Task.isCancelled { throw error }
                guard isRetryable(error), retry + 1 < attempts else { throw error }
                onRetry(retry, error)
                let after = (error as? any RetryableError)?.retryAfter
                try await Task.sleep(for: delay(retry: retry, retryAfter: after))
                retry += 1
            }
        }
    }

    package static let defaultIsRetryable: @Sendable (any Error) -> Bool = { error in
        (error as? any RetryableError)?.isRetryable ?? false
    }
}

/// An error that says whether the same call may succeed later and, when the server said so,
/// after how long: what ``RetryPolicy`` decides by (``BrokerClientError``, ``SinkError``).
package protocol RetryableError: Error {
    var isRetryable: Bool { get }
    /// The server's `Retry-After`, when it gave one.
    var retryAfter: Duration? { get }
}

extension Duration {
    /// Whole nanoseconds (saturating).
    var nanoseconds: Int64 {
        let (s, a) = components
        let (m, o) = s.multipliedReportingOverflow(by: 1_000_000_000)
        return o ? .max : m &+ a / 1_000_000_000
    }
}
