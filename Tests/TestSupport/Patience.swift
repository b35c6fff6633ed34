import NIOCore

/// How long a test waits for the system under test to answer before calling it a failure.
///
/// Every test of a suite runs at once in one process, and on a 2-core CI machine a server
/// under test may not be scheduled for many seconds while other tests compute; a reply that
/// takes that long is slow, not wrong. Tests that assert a bound on time (back-pressure,
/// "answers while the lock is held") keep their own, tighter, figures.
package enum Patience {
    /// The longest a single request may take to get its reply (status line, first event).
    package static let reply: Duration = .seconds(60)
    /// The same, in whole seconds, for socket options.
    package static var replySeconds: Int { Int(reply.components.seconds) }
    /// The same for AsyncHTTPClient's `execute(_:timeout:)`.
    package static var replyTimeAmount: TimeAmount { .seconds(Int64(replySeconds)) }
}
