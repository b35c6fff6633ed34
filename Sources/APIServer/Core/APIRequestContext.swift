import Hummingbird
import NIOCore

/// The per-request context: Hummingbird's core storage plus who is calling.
package struct APIRequestContext: RequestContext {
    package var coreContext: CoreRequestContextStorage
    /// The peer address, for access logs and for rate limiting without keys.
    package let remoteAddress: String?
    /// A short, non-secret id of the key that authenticated the request (for logs and limits).
    package var principal: String?

    package init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress?.ipAddress
        principal = nil
    }
}
