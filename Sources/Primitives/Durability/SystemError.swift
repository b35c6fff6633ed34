#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The text of an `errno` value, for error messages.
package enum SystemError {
    package static func message(_ code: Int32) -> String { String(cString: strerror(code)) }
}
