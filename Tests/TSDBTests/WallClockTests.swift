import Foundation
import Primitives
import Synchronization
import Testing
@testable import TSDB
import TelemetryTestSupport

/// A settable wall clock for the engine.
final class TestClock: Sendable {
    let now: Atomic<Int64>
    init(_ t: Int64) { now = Atomic(t) }
    func set(_ t: Int64) { now.store(t, ordering: .relaxed) }
    var read: @Sendable () -> Int64 { { self.now.load(ordering: .relaxed) } }
}

/// Future timestamps, the out-of-order window and retention, all measured from the wall clock.
@Suite("Wall clock bounds")
struct WallClockTests {
    @Test("samples more than maxFuture ahead are refused and counted; the rest are stored")
    func futureRefused() async throws {
        let dir = TempDir()
        var o = options(dir)
        let now = WallClock.nanos()
        o.clock = { now }
        let db = try await TSDB.open(o)
        let ref = try db.resolve(Labels(["__name__": "fut", "gpu": "0"]))
        var b = SampleBatch()
        b.append(ref, now - sec, 1)
        b.append(ref, now + 9 * Nanos.minute, 2)      // inside the default 10 min
        b.append(ref, 9_000_000_000_000_000_000, 3)   // year 2255
        b.append(ref, now + 11 * Nanos.minute, 4)
        let r = try await db.append(b)
        #expect(r == AppendResult(appended: 2, outOfWindow: 0, tooFarInFuture: 2))
        let message = try #require(r.futureRefusal(maxFuture: o.maxFuture))
        #expect(message.contains("2 samples are more than 600 s ahead") && message.contains("2 samples were stored"))
        #expect(try db.query(Query(metric: "fut")).series[0].values == [1, 2])
        try await db.close()
    }

    @Test("a far-future sample does not silence a series, not even one stored by an older version, across restarts")
    func farFutureDoesNotSilence() async throws {
        let dir = TempDir()
        let now = WallClock.nanos()
        do {
            // An older version accepted any timestamp: write one with the bound off.
            var o = options(dir)
            o.maxFuture = nil
            o.clock = { now }
            let db = try await TSDB.open(o)
            let ref = try db.resolve(Labels(["__name__": "fut", "host": "a"]))
            var b = SampleBatch()
            b.append(ref, 9_000_000_000_000_000_000, 1)
            #expect(try await db.append(b).appended == 1)
            var present = SampleBatch()
            present.append(ref, now, 2)
            #expect(try await db.append(present) == AppendResult(appended: 1))
            try await db.close()
        }
        for flushFirst in [false, true] {
            // Reopened with the default bound: replayed from the WAL, then from a block.
            var o = options(dir)
            o.clock = { now }
            let db = try await TSDB.open(o)
            if flushFirst { try await db.flush() }
            let ref = try db.resolve(Labels(["__name__": "fut", "host": "a"]))
            var b = SampleBatch()
            b.append(ref, now + (flushFirst ? 2 : 1) * sec, 3)
            b.append(ref, now - 30 * Nanos.minute, 4)   // out of order, inside the window from now
            b.append(ref, now - 2 * Nanos.hour, 5)      // outside it
            #expect(try await db.append(b) == AppendResult(appended: 2, outOfWindow: 1))
            try await db.close()
        }
        let db = try await TSDB.open(options(dir))
        let s = try db.query(Query(metric: "fut")).series[0]
        #expect(s.timestamps == [now - 30 * Nanos.minute, now, now + sec, now + 2 * sec, 9_000_000_000_000_000_000])
        try await db.close()
    }

    @Test("the out-of-order window still follows a series' newest sample when that is in the past (backfills)")
    func windowBehindPastNewest() async throws {
        let dir = TempDir()
        var o = options(dir)
        o.outOfOrderWindow = 10 * sec
        let db = try await TSDB.open(o)
        let ref = try db.resolve(Labels(["__name__": "old", "gpu": "0"]))
        var b = SampleBatch()
        b.append(ref, t0, 1)
        try await db.append(b)
        var late = SampleBatch()
        late.append(ref, t0 - 5 * sec, 2)
        late.append(ref, t0 - 50 * sec, 3)
        #expect(try await db.append(late) == AppendResult(appended: 1, outOfWindow: 1))
        try await db.close()
    }

    @Test("retention counts back from the wall clock: a far-future sample deletes nothing, age does")
    func retentionFromWallClock() async throws {
        let dir = TempDir()
        let clock = TestClock(t0 + 10 * Nanos.day)
        var o = options(dir)
        o.retention = 3 * Nanos.day
        o.maxFuture = nil
        o.clock = clock.read
        let db = try await TSDB.open(o)
        let ref = try db.resolve(Labels(["__name__": "ret", "gpu": "0"]))
        // Three blocks: 9 days old, 1 day old, and one far-future sample.
        for t in [t0 + Nanos.day, t0 + 9 * Nanos.day, 9_000_000_000_000_000_000] {
            var b = SampleBatch()
            b.append(ref, t, 1)
            try await db.append(b)
            try await db.flush()
        }
        var times = try db.query(Query(metric: "ret")).series[0].timestamps
        #expect(times == [t0 + 9 * Nanos.day, 9_000_000_000_000_000_000], "only the block older than 3 days behind the clock went")
        clock.set(t0 + 20 * Nanos.day)
        #expect(try await db.flush().blocksDeletedByRetention == 1)
        times = try db.query(Query(metric: "ret")).series[0].timestamps
        #expect(times == [9_000_000_000_000_000_000])
        try await db.close()
    }
}
