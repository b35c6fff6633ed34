import Ingest

/// Read access to request bodies parsed by Ingest's `JSONReader`.
extension JSONValue {
    subscript(key: String) -> JSONValue? {
        guard case .object(let fields) = self else { return nil }
        return fields.last(where: { $0.0 == key })?.1.value
    }

    var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    var double: Double? {
        switch self {
        case .integer(let i): return Double(i)
        case .number(let d): return d
        case .string(let s): return Double(s)
        default: return nil
        }
    }

    var array: [JSONValue]? {
        if case .array(let items) = self { return items.map(\.value) }
        return nil
    }

    var isObject: Bool {
        if case .object = self { return true }
        return false
    }

    var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// A string, or the strings of an array (Grafana multi-value variables arrive both ways).
    var strings: [String]? {
        switch self {
        case .string(let s): return [s]
        case .array(let items): return items.compactMap { $0.value.scalarString }
        case .integer, .number, .bool: return scalarString.map { [$0] }
        default: return nil
        }
    }

    /// Parses a JSON request body; an empty body is an empty object.
    static func parseBody(_ bytes: [UInt8]) throws(APIError) -> JSONValue {
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return .object([]) }
        var reader = JSONReader(bytes)
        do { return try reader.readDocument().value } catch { throw .badRequest(error.description) }
    }
}
