#if canImport(Glibc)
import Glibc
#endif

// The libFuzzer entry points: libFuzzer's driver calls `LLVMFuzzerInitialize` once, then
// `LLVMFuzzerTestOneInput` for every input. One binary serves every harness: `FUZZ_TARGET`
// names the one to run (see ``FuzzTargets``).
//
// `main`: SwiftPM links an executable target with `main` defined as `<Module>_main` (so tests
// can link executables), which keeps libFuzzer's own `main` out of the link; that symbol
// is defined here and starts libFuzzer's driver. Were the renaming ever dropped, libFuzzer's
// `main` (linked by `-sanitize=fuzzer`) would be used instead and this one go unused.

@_silgen_name("LLVMFuzzerRunDriver")
private func runLibFuzzer(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

@_cdecl("TelemetryFuzz_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return runLibFuzzer(&count, &arguments) { data, size in fuzzerTestOneInput(data, size) }
}

/// The harness chosen at start-up; written once in `LLVMFuzzerInitialize`, before any input.
nonisolated(unsafe) private var selected: FuzzTarget?

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(
    _ argc: UnsafeMutablePointer<CInt>?, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?
) -> CInt {
    if let root = environment("FUZZ_WRITE_SEEDS") {
        do {
            let written = try SeedWriter.writeAll(under: root)
            say("wrote \(written) seed files under \(root)\n")
            exit(0)
        } catch {
            say("seed generation failed: \(error)\n")
            exit(1)
        }
    }
    let names = FuzzTargets.all.map(\.name).joined(separator: " ")
    guard let name = environment("FUZZ_TARGET") else {
        say("set FUZZ_TARGET to one of: \(names)\n")
        exit(2)
    }
    if name == "list" {
        for t in FuzzTargets.all { print(t.name) }
        exit(0)
    }
    guard let target = FuzzTargets.all.first(where: { $0.name == name }) else {
        say("unknown FUZZ_TARGET \"\(name)\"; use one of: \(names)\n")
        exit(2)
    }
    selected = target
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let target = selected else {
        say("LLVMFuzzerTestOneInput before LLVMFuzzerInitialize\n")
        abort()
    }
    // libFuzzer's buffer is exactly `size` bytes, so AddressSanitizer catches any read past it.
    target.run(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size))
    return 0
}

func environment(_ name: String) -> String? {
    guard let v = getenv(name) else { return nil }
    let s = String(cString: v)
    return s.isEmpty ? nil : s
}

/// Writes to standard error (unbuffered, so it lands before an abort).
func say(_ message: String) {
    var text = message
    text.withUTF8 { buf in
        guard let base = buf.baseAddress else { return }
        _ = write(2, base, buf.count)
    }
}
