import Hummingbird
import NIOCore

/// The per-request context: Hummingbird's core storage plus who is calling.
public struct APIRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer address, for access logs and for rate limiting without keys.
    public let remoteAddress: String?
    /// A short, non-secret id of the key that authenticated the request (for logs and limits).
    public var principal: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress?.ipAddress
        principal = nil
    }
}
