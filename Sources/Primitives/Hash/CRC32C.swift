import CCRC32C

/// CRC-32C (Castagnoli), the checksum of every persisted record and chunk. With the CPU's
/// instruction where it has one (SSE 4.2 on x86-64, about 8 GB/s here), else slicing-by-8
/// in software (about 1–2 GB/s). Queries verify every chunk they read, so this is on the
/// read path as much as on the write path.
///
/// ```swift
/// let crc = CRC32C.checksum(bytes)            // one shot
/// var c = CRC32C(); c.update(a); c.update(b)  // streaming; c.value
/// ```
package struct CRC32C: Sendable {
    /// Whether ``update(_:)`` uses the CPU's CRC-32C instruction.
    package static let usesHardware = ccrc32c_hardware_available() != 0

    package private(set) var state: UInt32 = 0xFFFF_FFFF

    package init() {}

    package var value: UInt32 { ~state }

    package mutating func update(_ buffer: UnsafeRawBufferPointer) {
        guard Self.usesHardware else { return updateInSoftware(buffer) }
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        state = ccrc32c_update(state, base, buffer.count)
    }

    /// The table path, whatever the CPU: the reference the hardware path is tested against.
    package mutating func updateInSoftware(_ buffer: UnsafeRawBufferPointer) {
        var crc = state
        var i = 0
        let n = buffer.count
        guard n > 0, let base = buffer.baseAddress else { return }
        let t = CRC32C.tables
        t.withUnsafeBufferPointer { tp in
            while n - i >= 8 {
                let lo = base.loadUnaligned(fromByteOffset: i, as: UInt32.self).littleEndian ^ crc
                let hi = base.loadUnaligned(fromByteOffset: i + 4, as: UInt32.self).littleEndian
                crc = tp[7 * 256 + Int(lo & 0xFF)] ^ tp[6 * 256 + Int((lo >> 8) & 0xFF)]
                    ^ tp[5 * 256 + Int((lo >> 16) & 0xFF)] ^ tp[4 * 256 + Int(lo >> 24)]
                    ^ tp[3 * 256 + Int(hi & 0xFF)] ^ tp[2 * 256 + Int((hi >> 8) & 0xFF)]
                    ^ tp[1 * 256 + Int((hi >> 16) & 0xFF)] ^ tp[Int(hi >> 24)]
                i += 8
            }
            while i < n {
                crc = tp[Int((crc ^ UInt32(base.load(fromByteOffset: i, as: UInt8.self))) & 0xFF)] ^ (crc >> 8)
                i += 1
            }
        }
        state = crc
    }

    package mutating func update<C: ContiguousByteStorage>(_ bytes: C) {
        bytes.withUnsafeBytes { update($0) }
    }

    package static func checksum(_ buffer: UnsafeRawBufferPointer) -> UInt32 {
        var c = CRC32C()
        c.update(buffer)
        return c.value
    }

    package static func checksum<C: ContiguousByteStorage>(_ bytes: C) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }

    private static let tables: [UInt32] = {
        let poly: UInt32 = 0x82F6_3B78
        var t = [UInt32](repeating: 0, count: 8 * 256)
        for i in 0..<256 {
            var c = UInt32(i)
            for _ in 0..<8 { c = (c & 1) != 0 ? (c >> 1) ^ poly : c >> 1 }
            t[i] = c
        }
        for k in 1..<8 {
            for i in 0..<256 {
                let prev = t[(k - 1) * 256 + i]
                t[k * 256 + i] = (prev >> 8) ^ t[Int(prev & 0xFF)]
            }
        }
        return t
    }()
}
