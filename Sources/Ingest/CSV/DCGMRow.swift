import TSDB

/// A parsed row borrowed from the parser's buffer; valid only inside the callback. The
/// importer uses ``seriesKey`` to find a known series without building strings; the rest
/// materialise a ``DCGMRecord``.
public struct DCGMRow: ~Copyable {
    let buffer: UnsafeRawBufferPointer
    let fields: UnsafeBufferPointer<DCGMCSVParser.Field>
    let map: UnsafeBufferPointer<Int>
    public let line: Int
    public let timestamp: Int64
    public let value: Double

    init(buffer: UnsafeRawBufferPointer, fields: UnsafeBufferPointer<DCGMCSVParser.Field>, map: UnsafeBufferPointer<Int>,
         line: Int, timestamp: Int64, value: Double) {
        self.buffer = buffer
        self.fields = fields
        self.map = map
        self.line = line
        self.timestamp = timestamp
        self.value = value
    }

    /// Raw bytes of column `k` of ``DCGMCSVParser/columns`` (still CSV-escaped when quoted
    /// with doubled quotes); empty when the column is absent.
    func raw(_ k: Int) -> UnsafeRawBufferPointer {
        let idx = map[k]
        guard idx >= 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        let f = fields[idx]
        return UnsafeRawBufferPointer(rebasing: buffer[f.start..<f.end])
    }

    /// Appends the bytes that identify the series (every column but timestamp and value,
    /// separated by 0xFF) to `key`.
    public func appendSeriesKey(to key: inout [UInt8]) {
        for k in 1..<12 where k != 10 {
            key.append(contentsOf: raw(k))
            key.append(0xFF)
        }
    }

    func string(_ k: Int) -> String {
        let idx = map[k]
        guard idx >= 0 else { return "" }
        let f = fields[idx]
        let bytes = UnsafeRawBufferPointer(rebasing: buffer[f.start..<f.end])
        guard f.escaped else { return String(decoding: bytes, as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            out.append(bytes[i])
            i += (bytes[i] == 34 && i + 1 < bytes.count && bytes[i + 1] == 34) ? 2 : 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The series labels (DESIGN.md "Data model").
    public func labels() -> Labels {
        let lr = map[11] >= 0 ? LabelsRaw.parse(raw(11), unescapeCSV: fields[map[11]].escaped) : []
        return DCGMRecord.makeLabels(metric: string(1), gpuID: string(2), device: string(3), uuid: string(4),
                                     modelName: string(5), hostname: string(6), container: string(7), pod: string(8),
                                     namespace: string(9), extra: lr)
    }

    public func record() -> DCGMRecord {
        var r = DCGMRecord(timestamp: timestamp, metric: string(1), gpuID: string(2), device: string(3), uuid: string(4),
                           modelName: string(5), hostname: string(6), container: string(7), pod: string(8),
                           namespace: string(9), value: value, labelsRaw: "")
        r.labelsRaw = string(11)
        r.labels = labels()
        return r
    }
}
