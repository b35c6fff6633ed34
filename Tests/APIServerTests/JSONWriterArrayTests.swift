@testable import APIServer
import Testing

/// The one-reservation array writers the query route uses write the same text as the
/// element-at-a-time ones.
@Suite struct JSONWriterArrayTests {
    static let doubles: [Double] = [0, -0.0, 1, 42, 0.1, 123.456, .nan, .infinity, -.infinity, 9.007_199_254_740_992e15,
                                    -3, 1e300, 5e-324, 7, 8, 9.5, 10, 11]
    static let ints: [Int64] = [0, 1, -1, 1_736_122_200_137_000_000, -1_736_122_200_137_999_999, .max, .min, 999_999, 1_000_000]

    @Test func intArrayMatchesOneAtATime() {
        for divisor: Int64 in [1, 1_000_000] {
            var batch = JSONWriter()
            batch.beginObject(); batch.key("t"); batch.intArray(Self.ints, divisor: divisor); batch.key("n"); batch.int(1); batch.endObject()
            var single = JSONWriter()
            single.beginObject(); single.key("t"); single.beginArray()
            for v in Self.ints { single.int(v / divisor) }
            single.endArray(); single.key("n"); single.int(1); single.endObject()
            #expect(String(decoding: batch.bytes, as: UTF8.self) == String(decoding: single.bytes, as: UTF8.self))
        }
        var empty = JSONWriter()
        empty.beginArray(); empty.intArray([]); empty.intArray([5]); empty.endArray()
        #expect(String(decoding: empty.bytes, as: UTF8.self) == "[[],[5]]")
    }

    @Test func doubleArrayMatchesOneAtATime() {
        for values in [Self.doubles, [], [0.5], [1, 2, 3], Array(repeating: 2.0, count: 5_000) + [0.25] + Array(repeating: 3.0, count: 10)] {
            var batch = JSONWriter()
            batch.beginArray(); batch.int(0); batch.doubleArray(values); batch.endArray()
            var single = JSONWriter()
            single.beginArray(); single.int(0); single.beginArray()
            for v in values { single.double(v) }
            single.endArray(); single.endArray()
            #expect(String(decoding: batch.bytes, as: UTF8.self) == String(decoding: single.bytes, as: UTF8.self))
        }
    }
}
