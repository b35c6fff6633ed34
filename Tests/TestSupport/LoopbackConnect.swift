import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Connects the TCP socket `fd` to 127.0.0.1:`port`: `connect(2)`'s result, 0 or -1 with
/// `errno` set (the raw-HTTP and slow-client helpers report it their own way).
func connectLoopback(_ fd: Int32, port: Int) -> Int32 {
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    return withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
}
