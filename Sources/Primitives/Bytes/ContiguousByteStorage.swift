/// Byte containers that expose contiguous storage; `[UInt8]`, `ArraySlice<UInt8>` and
/// `UnsafeRawBufferPointer` conform. Named apart from Foundation's `ContiguousBytes` so that a
/// file importing both never sees two protocols of one name.
package protocol ContiguousByteStorage {
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
}
extension Array: ContiguousByteStorage where Element == UInt8 {}
extension ArraySlice: ContiguousByteStorage where Element == UInt8 {}
extension ContiguousArray: ContiguousByteStorage where Element == UInt8 {}
extension UnsafeRawBufferPointer: ContiguousByteStorage {
    package func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R { try body(self) }
}
