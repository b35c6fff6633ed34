import Ingest
import Testing
import TSDB

@Suite struct FormatTests {
    @Test func lineProtocolSyntax() throws {
        let text = #"cpu\ load,host=a\,b,region=us\ west value=1.5,count=3i,ok=true,msg="hi \"x\"" 1700000000000"#
        let r = try LineProtocolParser.parse(Array(text.utf8), precision: .ms, now: 0)
        #expect(r.samples.count == 3)
        #expect(r.skippedStringFields == 1)
        let names = r.samples.map { $0.labels.metric ?? "" }
        #expect(names == ["cpu load", "cpu load_count", "cpu load_ok"])
        #expect(r.samples[0].labels["host"] == "a,b")
        #expect(r.samples[0].labels["region"] == "us west")
        #expect(r.samples.allSatisfy { $0.timestamp == 1_700_000_000_000_000_000 })
        #expect(r.samples[2].value == 1)
        let noTime = try LineProtocolParser.parse(Array("m value=-2e3\n".utf8), now: 42)
        #expect(noTime.samples[0].timestamp == 42 && noTime.samples[0].value == -2000)
    }

    @Test(arguments: [
        ("m value=1\nm value=x\n", 2), ("m\n", 1), ("m,tag value=1\n", 1), ("m value=1 12a\n", 1),
        ("\n\nm value=\"unterminated\n", 3), ("m value=1i2\n", 1), ("m value=1 99999999999999999999\n", 1),
    ])
    func lineProtocolErrorsNameTheLine(input: String, line: Int) {
        do {
            _ = try LineProtocolParser.parse(Array(input.utf8), now: 0)
            Issue.record("\(input) should fail")
        } catch {
            guard case .syntax(let l, _, _) = error else { return }
            #expect(l == line, "\(error)")
        }
    }

    @Test func precisionOverflowIsAnError() {
        #expect(throws: LineProtocolError.self) { try LineProtocolParser.parse(Array("m value=1 9999999999999\n".utf8), precision: .h, now: 0) }
    }

    @Test func jsonSamples() throws {
        let s = try JSONSamples.decode(Array(#"{"metric":"m","value":1.25,"time":"2025-07-18T20:42:34.5Z","labels":{"a":"b"},"gpu_id":3}"#.utf8), now: 0)
        #expect(s.count == 1)
        #expect(s[0].labels["gpu"] == "3" && s[0].labels["a"] == "b" && s[0].labels.metric == "m")
        #expect(s[0].timestamp == 1_752_871_354_500_000_000)
        let ns = try JSONSamples.decode(Array(#"{"metric":"m","value":1,"time":1752871354123456789}"#.utf8), now: 0)
        #expect(ns[0].timestamp == 1_752_871_354_123_456_789)
        do {
            _ = try JSONSamples.decodeNDJSON(Array("{\"metric\":\"m\",\"value\":1}\n\n{\"metric\":\"m\",\"value\":[1]}\n".utf8), now: 0)
            Issue.record("should fail")
        } catch {
            #expect(error == .invalidSample(index: 1, line: 3, message: "missing \"value\" (a number)"))
        }
        do {
            _ = try JSONSamples.decode(Array("[\n{\"metric\": \"m\",\n \"value\": tru}]".utf8), now: 0)
            Issue.record("should fail")
        } catch {
            guard case .syntax(let line, _, _) = error else { Issue.record("\(error)"); return }
            #expect(line == 3)
        }
    }
}
