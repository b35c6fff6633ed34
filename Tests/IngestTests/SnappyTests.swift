import Testing
@testable import Ingest

@Suite("snappy block format")
struct SnappyTests {
    @Test("round trip, empty block, declared length")
    func roundTrip() throws {
        let data = Array(String(repeating: "DCGM_FI_DEV_GPU_UTIL{gpu=\"0\"} 7\n", count: 200).utf8)
        let block = Snappy.compress(data)
        #expect(block.count < data.count / 4)
        #expect(try Snappy.declaredLength(block) == data.count)
        #expect(try Snappy.decompress(block, limit: data.count) == data)
        #expect(try Snappy.decompress(Snappy.compress([]), limit: 0) == [])
    }

    @Test("a block declaring more than the limit is refused before allocating (snappy bomb)")
    func bomb() {
        // Header claims 4 GiB - 1; the body is a few bytes.
        let bomb: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x00, 0x01]
        #expect(throws: SnappyError.tooLarge(declared: Int(UInt32.max), limit: 1 << 20)) {
            try Snappy.decompress(bomb, limit: 1 << 20)
        }
        // A real block of 1 MiB of zeros compresses to ~50 KB; a 64 KiB limit refuses it.
        let zeros = Snappy.compress([UInt8](repeating: 0, count: 1 << 20))
        #expect(zeros.count < 64 << 10)
        #expect(throws: SnappyError.tooLarge(declared: 1 << 20, limit: 64 << 10)) { try Snappy.decompress(zeros, limit: 64 << 10) }
    }

    @Test("corrupt blocks and bad headers are refused")
    func corrupt() throws {
        var block = Snappy.compress(Array("hello hello hello hello hello".utf8))
        block.removeLast(3)
        #expect(throws: SnappyError.corrupt) { try Snappy.decompress(block, limit: 1 << 20) }
        #expect(throws: SnappyError.badHeader) { try Snappy.decompress([], limit: 10) }
        #expect(throws: SnappyError.badHeader) { try Snappy.decompress([0x80, 0x80, 0x80, 0x80, 0x80, 0x01], limit: 10) }
        #expect(throws: SnappyError.corrupt) { try Snappy.decompress([0x00, 0x01], limit: 10) }
        // The framed stream format (what `snappy` CLI tools write) is not the block format.
        let framed: [UInt8] = [0xFF, 0x06, 0x00, 0x00, 0x73, 0x4E, 0x61, 0x50, 0x70, 0x59]
        #expect(throws: SnappyError.self) { try Snappy.decompress(framed, limit: 1 << 20) }
    }
}
