import Primitives
import Testing

@Suite("Listen addresses")
struct ListenAddressTests {
    @Test("HOST:PORT, an empty host, port 0 and bracketed IPv6", arguments: [
        ("127.0.0.1:0", "127.0.0.1", 0), ("0.0.0.0:8080", "0.0.0.0", 8080), (":9000", "0.0.0.0", 9000),
        ("[::1]:8080", "::1", 8080), ("localhost:65535", "localhost", 65535), (" 127.0.0.1:1 ", "127.0.0.1", 1),
    ])
    func parses(text: String, host: String, port: Int) throws {
        let a = try ListenAddress.parse(text)
        #expect(a == ListenAddress(host: host, port: port))
    }

    @Test("malformed addresses and ports out of range are refused")
    func refused() {
        #expect(throws: ListenAddressError.malformed("8080")) { try ListenAddress.parse("8080") }
        #expect(throws: ListenAddressError.malformed("host:http")) { try ListenAddress.parse("host:http") }
        #expect(throws: ListenAddressError.portOutOfRange("host:65536")) { try ListenAddress.parse("host:65536") }
        #expect(throws: ListenAddressError.portOutOfRange("host:-1")) { try ListenAddress.parse("host:-1") }
        #expect(ListenAddress(host: "::1", port: 80).description == "[::1]:80")
    }
}
