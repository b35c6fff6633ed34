import TSDB

/// One element of an instant vector.
package struct Sample: Sendable {
    package var labels: Labels
    package var value: Double
    package init(labels: Labels, value: Double) {
        self.labels = labels
        self.value = value
    }
}

/// One series of a range vector or a range query result: points in ascending time order,
/// timestamps in milliseconds.
package struct Series: Sendable {
    package var labels: Labels
    package var timestamps: [Int64]
    package var values: [Double]
    package init(labels: Labels, timestamps: [Int64] = [], values: [Double] = []) {
        self.labels = labels
        self.timestamps = timestamps
        self.values = values
    }
}

/// What evaluating an expression at one instant gives.
enum InstantValue {
    case scalar(Double)
    case vector([Sample])
    case matrix([Series])
    case string(String)

    var vector: [Sample] {
        if case .vector(let v) = self { return v }
        return []
    }

    var scalar: Double {
        if case .scalar(let v) = self { return v }
        return .nan
    }
}

/// A finished query: what Prometheus' API calls `resultType` and `result`.
package enum QueryValue: Sendable {
    case scalar(time: Int64, value: Double)
    case string(time: Int64, value: String)
    case vector(time: Int64, samples: [Sample])
    case matrix([Series])

    package var resultType: String {
        switch self {
        case .scalar: return "scalar"
        case .string: return "string"
        case .vector: return "vector"
        case .matrix: return "matrix"
        }
    }
}

extension Labels {
    /// Prometheus' label-set order: pair by pair, name then value, shorter set first.
    package static func promLess(_ a: Labels, _ b: Labels) -> Bool {
        let x = a.pairs, y = b.pairs
        for k in 0..<Swift.min(x.count, y.count) {
            if x[k].name != y[k].name { return x[k].name < y[k].name }
            if x[k].value != y[k].value { return x[k].value < y[k].value }
        }
        return x.count < y.count
    }

    var droppingMetricName: Labels {
        guard pairs.contains(where: { $0.name == Labels.metricName }) else { return self }
        return Labels(sortedPairs: pairs.filter { $0.name != Labels.metricName })
    }

    /// A copy with `name` set to `value`, or removed when `value` is empty.
    func setting(_ name: String, _ value: String) -> Labels {
        var p = pairs.filter { $0.name != name }
        if !value.isEmpty {
            let at = p.firstIndex { $0.name > name } ?? p.count
            p.insert(Label(name, value), at: at)
        }
        return Labels(sortedPairs: p)
    }

    func removing(_ names: [String]) -> Labels {
        Labels(sortedPairs: pairs.filter { !names.contains($0.name) })
    }

    func value(_ name: String) -> String { self[name] ?? "" }

    /// A key that is equal for label sets whose chosen labels are equal: the `on(...)` labels,
    /// or every label but the `ignoring(...)` ones and the metric name.
    func signature(on: Bool, _ names: [String]) -> [UInt8] {
        var out: [UInt8] = []
        if on {
            for n in names.sorted() {
                out.append(contentsOf: n.utf8); out.append(0xFF)
                out.append(contentsOf: value(n).utf8); out.append(0xFE)
            }
        } else {
            for p in pairs where p.name != Labels.metricName && !names.contains(p.name) {
                out.append(contentsOf: p.name.utf8); out.append(0xFF)
                out.append(contentsOf: p.value.utf8); out.append(0xFE)
            }
        }
        return out
    }
}
