import Testing
@testable import PromQL

@Suite struct ParserTests {
    private func scalar(_ text: String) throws -> Double? {
        // Constant expressions are folded by evaluating them; parsing alone must accept them.
        let e = try PromQLParser.parse(text)
        guard e.type == .scalar else { return nil }
        let ev = Evaluator(start: 0, end: 0, step: 1, lookback: 300_000, deadline: nil)
        if case .scalar(let v) = try ev.eval(e, at: 0) { return v }
        return nil
    }

    @Test(arguments: [
        ("1+1", 2.0), ("1 + 2 * 3", 7), ("(1 + 2) * 3", 9), ("2 * 3 ^ 2", 18), ("2 ^ 3 ^ 2", 512),
        ("-2 ^ 2", -4), ("10 % 3", 1), ("10 - 2 - 3", 5), ("12 / 2 / 3", 2), ("1 == bool 1", 1),
        ("2 > bool 3", 0), ("0x10", 16), ("1e3", 1000), (".5", 0.5), ("- -3", 3), ("+3", 3),
        ("time()", 0), ("scalar(vector(4))", 4), ("3 >= bool 3 + 1", 0),
    ])
    func precedence(_ text: String, _ want: Double) throws {
        #expect(try scalar(text) == want, "\(text)")
    }

    @Test func inf_and_nan_literals() throws {
        #expect(try scalar("Inf") == .infinity)
        #expect(try scalar("-inf") == -.infinity)
        #expect(try scalar("NaN")?.isNaN == true)
    }

    @Test func selectors_modifiers_and_types() throws {
        guard case .matrix(let vs, let range) = try PromQLParser.parse(#"up{job="a", instance!="b", x=~"c.*", y!~"d",} [5m] offset 1h @ 100"#) else {
            Issue.record("not a range selector"); return
        }
        #expect(range == 300_000)
        #expect(vs.offset == 3_600_000)
        #expect(vs.at == .time(100_000))
        #expect(vs.name == "up")
        #expect(vs.matchers.count == 5)
        guard case .vector(let v2) = try PromQLParser.parse("foo offset -5m @ end()") else { Issue.record("not a selector"); return }
        #expect(v2.offset == -300_000)
        #expect(v2.at == .end)
        #expect(try PromQLParser.parse(#"{__name__=~"DCGM_.*"}"#).type == .vector)
        #expect(try PromQLParser.parse(#""a string""#).type == .string)
        #expect(try PromQLParser.parse("rate(x[1h30m])").type == .vector)
    }

    @Test func aggregations_both_orders_and_parameters() throws {
        guard case .aggregate(let a) = try PromQLParser.parse("sum by (Hostname, gpu) (x)") else { Issue.record("no aggregate"); return }
        #expect(a.op == .sum && a.grouping == ["Hostname", "gpu"] && !a.without)
        guard case .aggregate(let b) = try PromQLParser.parse("topk(5, x) without (pod)") else { Issue.record("no aggregate"); return }
        #expect(b.op == .topk && b.without && b.grouping == ["pod"] && b.param != nil)
        guard case .aggregate(let c) = try PromQLParser.parse(#"count_values("v", x)"#) else { Issue.record("no aggregate"); return }
        #expect(c.op == .countValues)
    }

    @Test func vector_matching() throws {
        guard case .binary(let b) = try PromQLParser.parse("a * on(gpu, Hostname) group_left(modelName) b") else { Issue.record("no binary"); return }
        #expect(b.matching?.card == .manyToOne)
        #expect(b.matching?.on == true)
        #expect(b.matching?.labels == ["gpu", "Hostname"])
        #expect(b.matching?.include == ["modelName"])
        guard case .binary(let s) = try PromQLParser.parse("a and ignoring(x) b or c") else { Issue.record("no binary"); return }
        // `and` binds tighter than `or`.
        #expect(s.op == .or)
        guard case .binary(let g) = try PromQLParser.parse("a > bool b") else { Issue.record("no binary"); return }
        #expect(g.returnBool)
    }

    @Test(arguments: [
        "sum(", "{}", #"{x=""}"#, "1 > 1", "foo[5m] + 1", "rate(foo)", "sum(foo[5m])", "abs(1)",
        "foo offset", "a and 1", "a + bool b", "1 and 2", "nosuchfunction(x)", "foo[5m][5m]",
        #"foo{a="b""#, "a * on(x) group_left(x) b", "topk(x)", "label_join(x)", "3 +", "(1",
        "foo @ start", "foo offset 1m offset 2m", "\"unterminated", "5m", "a + on(x) 1",
    ])
    func errors_are_bad_data(_ text: String) {
        #expect {
            _ = try PromQLParser.parse(text)
        } throws: { e in
            guard let e = e as? PromQLError, case .badData = e else { return false }
            return true
        }
    }

    @Test(arguments: ["rate(x[5m:1m])", "max_over_time(rate(x[1m])[5m:])", "day_of_week()", "histogram_count(x)"])
    func unsupported_constructs_are_named(_ text: String) {
        #expect {
            _ = try PromQLParser.parse(text)
        } throws: { e in
            guard let e = e as? PromQLError, case .unsupported(let m) = e else { return false }
            return e.httpStatus == 422 && !m.isEmpty
        }
    }

    @Test func durations() {
        #expect(DurationParser.parse("1h30m") == 5_400_000)
        #expect(DurationParser.parse("250ms") == 250)
        #expect(DurationParser.parse("1y") == Int64(31_536_000_000))
        #expect(DurationParser.parse("30m1h") == nil)
        #expect(DurationParser.parse("5x") == nil)
    }
}
