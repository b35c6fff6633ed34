import Foundation
import Testing
import TSDB
@testable import PromQL

/// The matrix body is the same bytes however it is written: in parts on several cores, with
/// a range query's step timestamps written once, or point by point.
@Suite struct PrometheusJSONTests {
    /// 24 series × 1,000 points at a 15 s step (past the size written in parts), some with
    /// gaps, off-grid timestamps and values that take either float path.
    static func matrix() -> [Series] {
        var rng = SplitMix(seed: 0xC0FFEE)
        var out: [Series] = []
        for k in 0..<24 {
            var s = Series(labels: Labels(["__name__": "m", "gpu": String(k), "Hostname": "h\(k % 3)"]))
            for j in 0..<1_000 where k % 5 != 0 || j % 7 != 0 {
                s.timestamps.append(1_736_121_600_000 + Int64(j) * 15_000 + (k == 3 && j == 10 ? 1 : 0))
                s.values.append(j % 2 == 0 ? Double(rng.next() % 1000) / 8 : Double(bitPattern: rng.next() >> 2))
            }
            out.append(s)
        }
        return out
    }

    @Test func matrix_in_parts_equals_series_by_series() throws {
        let m = Self.matrix()
        let grid = (start: Int64(1_736_121_600_000), step: Int64(15_000), count: 1_000)
        let whole = PrometheusJSON.query(.matrix(m), grid: grid)
        #expect(PrometheusJSON.query(.matrix(m)) == whole)
        // Each series alone is below the size written in parts: the reference, joined.
        let prefix = Array(#"{"status":"success","data":{"resultType":"matrix","result":["#.utf8)
        var joined = prefix
        for (k, s) in m.enumerated() {
            let one = PrometheusJSON.query(.matrix([s]))
            if k > 0 { joined.append(UInt8(ascii: ",")) }
            joined.append(contentsOf: one[prefix.count..<(one.count - 3)])
        }
        joined.append(contentsOf: Array("]}}".utf8))
        #expect(whole == joined)
        let parsed = try JSONSerialization.jsonObject(with: Data(whole)) as? [String: Any]
        let result = (parsed?["data"] as? [String: Any])?["result"] as? [[String: Any]]
        #expect(result?.count == 24)
        #expect((result?[3]["values"] as? [[Any]])?[10].first as? Double == 1_736_121_750.001)
    }
}
