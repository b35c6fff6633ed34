import TSDB

/// One DCGM row, materialised. `labels` is the series identity per DESIGN.md "Data model":
/// `__name__`, `gpu`, `UUID`, `device`, `modelName`, `Hostname`, `container`, `pod`,
/// `namespace` (absent when empty), plus the other pairs of `labels_raw`.
package struct DCGMRecord: Sendable, Hashable {
    package var timestamp: Int64
    package var metric: String
    package var gpuID: String
    package var device: String
    package var uuid: String
    package var modelName: String
    package var hostname: String
    package var container: String
    package var pod: String
    package var namespace: String
    package var value: Double
    package var labelsRaw: String
    package var labels: Labels

    package init(timestamp: Int64, metric: String, gpuID: String = "", device: String = "", uuid: String = "",
                modelName: String = "", hostname: String = "", container: String = "", pod: String = "",
                namespace: String = "", value: Double, labelsRaw: String = "") {
        self.timestamp = timestamp
        self.metric = metric
        self.gpuID = gpuID
        self.device = device
        self.uuid = uuid
        self.modelName = modelName
        self.hostname = hostname
        self.container = container
        self.pod = pod
        self.namespace = namespace
        self.value = value
        self.labelsRaw = labelsRaw
        self.labels = Labels([])
        self.labels = Self.makeLabels(metric: metric, gpuID: gpuID, device: device, uuid: uuid, modelName: modelName,
                                      hostname: hostname, container: container, pod: pod, namespace: namespace,
                                      extra: LabelsRaw.parse(labelsRaw))
    }

    static func makeLabels(metric: String, gpuID: String, device: String, uuid: String, modelName: String, hostname: String,
                           container: String, pod: String, namespace: String, extra: [Label]) -> Labels {
        var pairs: [Label] = []
        pairs.reserveCapacity(9 + extra.count)
        // labels_raw first, so the columns win where both name a label.
        for l in extra where l.name != Labels.metricName { pairs.append(l) }
        pairs.append(Label(Labels.metricName, metric))
        pairs.append(Label(InventoryLabel.gpu, gpuID))
        pairs.append(Label(InventoryLabel.uuid, uuid))
        pairs.append(Label(InventoryLabel.device, device))
        pairs.append(Label(InventoryLabel.model, modelName))
        pairs.append(Label(InventoryLabel.hostname, hostname))
        pairs.append(Label(InventoryLabel.container, container))
        pairs.append(Label(InventoryLabel.pod, pod))
        pairs.append(Label(InventoryLabel.namespace, namespace))
        // Labels drops empty values; a column that is empty leaves labels_raw's value alone.
        var byName: [String: String] = [:]
        for p in pairs where !p.value.isEmpty || byName[p.name] == nil { byName[p.name] = p.value }
        return Labels(byName)
    }
}

/// A problem with one input row.
package struct DCGMParseProblem: Sendable, Equatable, CustomStringConvertible {
    package var line: Int
    package var message: String
    package var description: String { "line \(line): \(message)" }
}

/// Counts of one parse; the first 100 problems are kept with their line numbers.
package struct DCGMParseStats: Sendable, Equatable {
    package var rows = 0
    package var samples = 0
    package var blankSkipped = 0
    package var badRows = 0
    package var problems: [DCGMParseProblem] = []
    package static let maxProblems = 100
}

package enum DCGMError: Error, Sendable, Equatable, CustomStringConvertible {
    case strictModeBadRow(line: Int, message: String)
    case unreadable(path: String, message: String)
    case missingColumns([String])

    package var description: String {
        switch self {
        case .strictModeBadRow(let line, let m): return "line \(line): \(m) (--strict stops at the first bad row)"
        case .unreadable(let path, let m): return "cannot read \(path): \(m)"
        case .missingColumns(let c): return "the CSV header lacks the column(s) \(c.joined(separator: ", ")); a DCGM export has timestamp,metric_name,gpu_id,device,uuid,modelName,Hostname,container,pod,namespace,value,labels_raw"
        }
    }
}

/// Parses `labels_raw` (`k="v",k2="v2"`, Prometheus escapes `\\ \" \n`) into labels.
package enum LabelsRaw {
    package static func parse(_ s: String) -> [Label] {
        var s = s
        return s.withUTF8 { parse(UnsafeRawBufferPointer($0)) }
    }

    /// The field's text, CSV quoting already undone.
    static func parse(_ p: UnsafeRawBufferPointer) -> [Label] {
        var out: [Label] = []
        var i = 0
        let n = p.count
        while i < n {
            while i < n, p[i] == 44 || p[i] == 32 { i += 1 }
            let nameStart = i
            while i < n, p[i] != 61, p[i] != 44 { i += 1 }
            guard i < n, p[i] == 61 else { break }
            let name = String(decoding: UnsafeRawBufferPointer(rebasing: p[nameStart..<i]), as: UTF8.self)
            i += 1
            var value: [UInt8] = []
            if i < n, p[i] == 34 {
                i += 1
                while i < n {
                    if p[i] == 34 { i += 1; break }
                    if p[i] == 92, i + 1 < n {
                        let e = p[i + 1]
                        value.append(e == 110 ? 10 : e)
                        i += 2
                        continue
                    }
                    value.append(p[i])
                    i += 1
                }
            } else {
                while i < n, p[i] != 44 { value.append(p[i]); i += 1 }
            }
            if !name.isEmpty { out.append(Label(name, String(decoding: value, as: UTF8.self))) }
        }
        return out
    }
}
