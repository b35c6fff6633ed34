/// Record ids as clients see them: `<partition>-<offset>`, both decimal. Parsed from
/// untrusted bytes without arithmetic that can trap: a partition above `Int32.max` or an
/// offset above `Int64.max` (20 digits and more) is malformed, not a wrap.
///
/// ```swift
/// RecordID.format(partition: 3, offset: 42)   // "3-42"
/// try RecordID.parse("3-42").get()            // (partition: 3, offset: 42)
/// ```
package enum RecordID {
    /// Offsets stay below this so they survive every signed 64-bit consumer.
    package static let maxOffset = UInt64(Int64.max)
    package static let maxPartition = Int(Int32.max)

    package static func format(partition: Int, offset: UInt64) -> String {
        String(partition) + "-" + String(offset)
    }

    /// The partition and offset of `id`, or a `.invalidRequest` saying what is wrong with it.
    package static func parse(_ id: String) -> Result<(partition: Int, offset: UInt64), BrokerError> {
        let bytes = Array(id.utf8)
        guard let dash = bytes.firstIndex(of: 0x2D) else { return .failure(malformed(id, "no '-' between partition and offset")) }
        guard let partition = decimal(bytes[..<dash], max: UInt64(maxPartition)) else {
            return .failure(malformed(id, "the partition must be 1-10 digits up to \(maxPartition)"))
        }
        guard let offset = decimal(bytes[(dash + 1)...], max: maxOffset) else {
            return .failure(malformed(id, "the offset must be 1-19 digits up to \(maxOffset)"))
        }
        return .success((Int(partition), offset))
    }

    /// A decimal number of ASCII digits only, at most `max`; nil on anything else or overflow.
    static func decimal(_ digits: ArraySlice<UInt8>, max: UInt64) -> UInt64? {
        guard !digits.isEmpty, digits.count <= 19 else { return nil }
        var value: UInt64 = 0
        for c in digits {
            guard c >= 0x30, c <= 0x39 else { return nil }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = times10.addingReportingOverflow(UInt64(c - 0x30))
            guard !o1, !o2, next <= max else { return nil }
            value = next
        }
        return value
    }

    private static func malformed(_ id: String, _ why: String) -> BrokerError {
        .invalidRequest("'\(id.prefix(48))' is not a record id <partition>-<offset>: \(why)")
    }
}

/// A non-negative integer query parameter (partition, count), parsed without traps.
func nonNegativeInteger(_ text: String, name: String, max: Int = Int(Int32.max)) throws(BrokerError) -> Int {
    guard let v = RecordID.decimal(Array(text.utf8)[...], max: UInt64(max)) else {
        throw .invalidRequest("\(name) must be an integer from 0 to \(max), got '\(text.prefix(32))'")
    }
    return Int(v)
}
