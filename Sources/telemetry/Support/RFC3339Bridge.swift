import Ingest

/// The executable parses times with the same hand-written RFC 3339 code as the ingest path.
enum RFC3339Bridge {
    static func parse(_ s: String) -> Int64? { RFC3339.parse(s) }
    static func format(_ t: Int64) -> String { RFC3339.format(t) }
}
