import Synchronization

/// The ring the proxy routes by plus each broker's health. The ring is immutable; health
/// is a small array behind a mutex that is held only to read or assign it, never during I/O.
public final class RoutingTable: Sendable {
    public let ring: HashRing
    public let failover: Bool
    private let up: Mutex<[String: Bool]>

    public init(ring: HashRing, failover: Bool) {
        self.ring = ring
        self.failover = failover
        self.up = Mutex(Dictionary(uniqueKeysWithValues: ring.nodes.map { ($0, true) }))
    }

    public func isUp(_ broker: String) -> Bool { up.withLock { $0[broker] ?? false } }

    public func health() -> [String: Bool] { up.withLock { $0 } }

    /// Records health results; returns the brokers whose state changed.
    @discardableResult
    public func update(_ results: [String: Bool]) -> [String] {
        up.withLock { state in
            var changed: [String] = []
            for (b, ok) in results where state[b] != nil && state[b] != ok {
                state[b] = ok
                changed.append(b)
            }
            return changed
        }
    }

    public func markDown(_ broker: String) { update([broker: false]) }

    public enum Route: Equatable, Sendable {
        /// The owner, or (failover) the first healthy broker after it; `failedOver` says which.
        case broker(String, failedOver: Bool)
        /// The owner is down and failover is off (or nobody is up).
        case unavailable(owner: String?)
    }

    public func route(topic: String, partition: Int) -> Route {
        let preference = ring.preference(for: HashRing.key(topic: topic, partition: partition))
        guard let owner = preference.first else { return .unavailable(owner: nil) }
        let health = self.health()
        if health[owner] == true { return .broker(owner, failedOver: false) }
        guard failover else { return .unavailable(owner: owner) }
        for b in preference.dropFirst() where health[b] == true { return .broker(b, failedOver: true) }
        return .unavailable(owner: owner)
    }
}
