import Primitives

/// Parses `topic=count,topic=count` (per-topic partition counts).
package func parseTopicPartitions(_ text: String) -> [String: Int]? {
    var out: [String: Int] = [:]
    for item in text.split(separator: ",") where !item.isEmpty {
        let kv = item.split(separator: "=", maxSplits: 1)
        guard kv.count == 2, let n = Int(String(kv[1]).trimmingWhitespace()), n > 0 else { return nil }
        out[String(kv[0]).trimmingWhitespace()] = n
    }
    return out
}
