import Hummingbird
import Synchronization

/// A token bucket per principal (API key, or peer address without keys): `rate` tokens per
/// second up to `burst`; an empty bucket answers 429 with `Retry-After`.
final class RateLimiter: Sendable {
    struct Bucket { var tokens: Double; var updated: ContinuousClock.Instant }
    let rate: Double
    let burst: Double
    private let buckets = Mutex<[String: Bucket]>([:])
    private let clock = ContinuousClock()
    static let maxTracked = 10_000

    init(rate: Double, burst: Double) {
        self.rate = rate
        self.burst = burst
    }

    /// nil when allowed, else the seconds to wait.
    func take(_ principal: String) -> Int? {
        let now = clock.now
        return buckets.withLock { map -> Int? in
            var bucket = map[principal] ?? Bucket(tokens: burst, updated: now)
            let (s, atto) = (now - bucket.updated).components
            let elapsed = Double(s) + Double(atto) / 1e18
            bucket.tokens = min(burst, bucket.tokens + elapsed * rate)
            bucket.updated = now
            let verdict: Int?
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                verdict = nil
            } else {
                verdict = max(1, Int(((1 - bucket.tokens) / rate).rounded(.up)))
            }
            if map.count >= Self.maxTracked, map[principal] == nil {
                // Forget full buckets first: they hold no state worth keeping.
                map = map.filter { $0.value.tokens < burst }
                if map.count >= Self.maxTracked { map.removeAll(keepingCapacity: true) }
            }
            map[principal] = bucket
            return verdict
        }
    }
}

struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let limiter: RateLimiter
    let metrics: APIMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let principal = context.principal, principal != "service", let wait = limiter.take(principal) {
            metrics.rateLimited.increment()
            throw APIError.rateLimited(retryAfter: wait)
        }
        return try await next(request, context)
    }
}
