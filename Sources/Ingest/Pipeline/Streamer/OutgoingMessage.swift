/// One broker message on its way out: a DCGM CSV document and its row count.
struct OutgoingMessage: Sendable {
    var payload: [UInt8]
    var rows: Int
}
