import Primitives
import TelemetryTestSupport
import Testing

@Suite("Hashes")
struct HashTests {
    @Test("CRC32C matches its reference vectors, in one shot and streamed")
    func crc32c() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8]()) == 0)
        // RFC 3720 B.4: 32 bytes of zeros.
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        let bytes = Array("The quick brown fox jumps over the lazy dog, twice over".utf8)
        for split in [0, 1, 7, 8, 9, bytes.count] {
            var c = CRC32C()
            c.update(Array(bytes[..<split]))
            c.update(Array(bytes[split...]))
            #expect(c.value == CRC32C.checksum(bytes), "split at \(split)")
        }
    }

    @Test("CRC32C: the CPU instruction's path equals the table's at every length and alignment")
    func crc32cHardwareEqualsSoftware() {
        // Both paths on one CPU; where it has no instruction both are the table's.
        var rng = SeededGenerator(seed: 0x5EED)
        let bytes = (0..<4_200).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        bytes.withUnsafeBytes { all in
            for start in 0..<17 {
                for length in [0, 1, 3, 7, 8, 9, 15, 16, 17, 63, 64, 65, 255, 1_000, 4_096, 4_200 - start] where start + length <= all.count {
                    let slice = UnsafeRawBufferPointer(rebasing: all[start..<(start + length)])
                    var soft = CRC32C(), used = CRC32C()
                    soft.updateInSoftware(slice)
                    used.update(slice)
                    #expect(used.value == soft.value, "start \(start), length \(length)")
                    // Streamed in two pieces from a running state.
                    var split = CRC32C()
                    split.update(UnsafeRawBufferPointer(rebasing: slice[..<(length / 3)]))
                    split.update(UnsafeRawBufferPointer(rebasing: slice[(length / 3)...]))
                    #expect(split.value == soft.value, "split, start \(start), length \(length)")
                }
            }
        }
        var reference = CRC32C()
        Array("123456789".utf8).withUnsafeBytes { reference.updateInSoftware($0) }
        #expect(reference.value == 0xE306_9283)
    }

    @Test("xxHash64 matches its reference vectors; seeds change it; String and bytes agree")
    func xxhash64() {
        #expect(XXHash64.hash([UInt8]()) == 0xEF46_DB37_51D8_E999)
        #expect(XXHash64.hash(Array("abc".utf8)) == 0x44BC_2CF5_AD77_0999)
        #expect(XXHash64.hash(Array("Nobody inspects the spammish repetition".utf8)) == 0xFBCE_A83C_8A37_8BF1)
        #expect(XXHash64.hash("abc") == XXHash64.hash(Array("abc".utf8)))
        #expect(XXHash64.hash("abc", seed: 1) != XXHash64.hash("abc"))
        let long = Array(repeating: Array("0123456789abcdef".utf8), count: 5).flatMap { $0 }
        #expect(XXHash64.hash(long) == XXHash64.hash(long[...]))
    }
}
