import Foundation
import Testing
import TSDB
@testable import PromQL

/// label_replace matches through RE2 with Go's semantics, as Prometheus does, not through
/// Foundation's ICU regular expressions.
@Suite struct LabelReplaceTests {
    // "٣" is ARABIC-INDIC DIGIT THREE: a decimal digit to ICU's \d, not to RE2's (ASCII only).
    static let data: [LabeledSample] =
        series(["__name__": "up", "instance": "node-٣:9400", "job": "a"], from: 0, to: 60_000) { _ in 1 }
        + series(["__name__": "up", "instance": "node-7:9400", "job": "b"], from: 0, to: 60_000) { _ in 1 }
        + series(["__name__": "up", "instance": "x\ny", "job": "c"], from: 0, to: 60_000) { _ in 1 }

    @Test func re2_ascii_digit_class_differs_from_foundation() async throws {
        // The premise: Foundation's regex engine calls "٣" a digit.
        let icu = try NSRegularExpression(pattern: #"^(?:node-(\d+):.*)$"#)
        let odd = "node-٣:9400"
        #expect(icu.firstMatch(in: odd, range: NSRange(location: 0, length: (odd as NSString).length)) != nil)
        try await withDB(Self.data) { (e: PromQLEngine) throws in
            let r = try e.instantQuery(#"label_replace(up, "host", "$1", "instance", "node-(\\d+):.*")"#, time: 60_000).0
            #expect(r.samples.count == 3)
            // RE2: only the ASCII digit matches; the other series keep their labels unchanged.
            #expect(r.samples.first { $0.labels["job"] == "b" }?.labels["host"] == "7")
            #expect(r.samples.first { $0.labels["job"] == "a" }?.labels["host"] == nil)
        }
    }

    @Test func backreferences_are_refused_as_in_prometheus() async throws {
        try await withDB(Self.data) { (e: PromQLEngine) throws in
            #expect(throws: PromQLError.self) {
                _ = try e.instantQuery(#"label_replace(up, "x", "$1", "job", "(a)\\1")"#, time: 60_000)
            }
        }
    }

    @Test func dot_does_not_cross_newlines_and_templates_expand_like_go() async throws {
        try await withDB(Self.data) { (e: PromQLEngine) throws in
            // Go's regexp without (?s): "." does not match "\n", so "x\ny" is left alone.
            let dot = try e.instantQuery(#"label_replace(up, "m", "yes", "instance", "x.y")"#, time: 60_000).0
            #expect(dot.samples.allSatisfy { $0.labels["m"] == nil })
            let named = try e.instantQuery(#"label_replace(up{job="b"}, "out", "${port}-$1x-$$-$9-${name", "instance", "node-(?P<n>[0-9]):(?P<port>[0-9]+)")"#,
                                           time: 60_000).0
            // $1x is the group named "1x" (none: empty), $9 does not exist (empty), "${name" is malformed and stays.
            #expect(named.samples.first?.labels["out"] == "9400--$--${name")
            let whole = try e.instantQuery(#"label_replace(up{job="b"}, "out", "<$0>", "instance", "node-7")"#, time: 60_000).0
            #expect(whole.samples.first?.labels["out"] == nil)  // anchored: "node-7" is not the whole value
        }
    }
}
