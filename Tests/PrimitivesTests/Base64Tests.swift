import Foundation
import Primitives
import Testing
import TelemetryTestSupport

@Suite("Base64")
struct Base64Tests {
    @Test("encode and decode round trip and match Foundation (seeded)", arguments: [0, 1, 2, 3, 4, 5, 31, 32, 33, 1000])
    func roundTrip(length: Int) {
        let seed = UInt64(length) &* 7919
        var rng = SeededGenerator(seed: seed)
        let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
        var encoded: [UInt8] = []
        Base64.encode(bytes, into: &encoded)
        #expect(String(decoding: encoded, as: UTF8.self) == Data(bytes).base64EncodedString(), "seed \(seed)")
        #expect(encoded.count == Base64.encodedCount(length))
        let direct = [UInt8](unsafeUninitializedCapacity: Base64.encodedCount(length)) { out, n in
            n = bytes.withUnsafeBufferPointer { Base64.encode($0, into: out.baseAddress!) }
        }
        #expect(direct == encoded)
        #expect(Base64.decode(encoded) == bytes, "seed \(seed)")
    }

    @Test("malformed input decodes to nil", arguments: ["a$cd", "abcde", "ab=c", "====x"])
    func malformed(text: String) {
        #expect(Base64.decode(Array(text.utf8)) == nil)
    }
}
