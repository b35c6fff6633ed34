/// Why a column could not be decoded.
public enum CodecError: Error, Equatable, Sendable, CustomStringConvertible {
    case truncated
    case malformed(String)
    case checksumMismatch(expected: UInt32, actual: UInt32)

    public var description: String {
        switch self {
        case .truncated: return "data ends early"
        case .malformed(let m): return "malformed data: \(m)"
        case .checksumMismatch(let e, let a): return "checksum mismatch (stored \(e), computed \(a))"
        }
    }
}
