/// Parses durations as written in flags and environment variables: `30` (seconds), `0.2`,
/// `200ms`, `1.5s`, `5m`, `2h`, `7d`. Returns nil for anything else, and for durations beyond
/// what Int64 nanoseconds hold (about 292 years).
public func parseDuration(_ text: String) -> Duration? {
    let s = text.trimmingCharacters(in: " ")
    let units: [(String, Double)] = [("ms", 1e-3), ("us", 1e-6), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
    for (suffix, scale) in units where s.hasSuffix(suffix) {
        guard let v = Double(s.dropLast(suffix.count)), v >= 0, v.isFinite else { return nil }
        return nanoseconds(v * scale * 1e9)
    }
    guard let v = Double(s), v >= 0, v.isFinite else { return nil }
    return nanoseconds(v * 1e9)
}

private func nanoseconds(_ ns: Double) -> Duration? {
    let rounded = ns.rounded()
    // 2^63 is the first Double past Int64.max; converting it or more would trap.
    guard rounded < 9_223_372_036_854_775_808.0 else { return nil }
    return .nanoseconds(Int64(rounded))
}

/// Parses `topic=count,topic=count` (per-topic partition counts).
public func parseTopicPartitions(_ text: String) -> [String: Int]? {
    var out: [String: Int] = [:]
    for item in text.split(separator: ",") where !item.isEmpty {
        let kv = item.split(separator: "=", maxSplits: 1)
        guard kv.count == 2, let n = Int(kv[1].trimmingCharacters(in: " ")), n > 0 else { return nil }
        out[kv[0].trimmingCharacters(in: " ")] = n
    }
    return out
}

extension StringProtocol {
    func trimmingCharacters(in set: Character) -> String {
        var sub = Substring(self)
        while sub.first == set { sub.removeFirst() }
        while sub.last == set { sub.removeLast() }
        return String(sub)
    }
}

/// Splits `HOST:PORT` (the port may be 0 for "pick one").
public func parseListenAddress(_ text: String) -> (host: String, port: Int)? {
    guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else { return nil }
    let host = String(text[..<colon])
    return (host.isEmpty ? "0.0.0.0" : host, port)
}
