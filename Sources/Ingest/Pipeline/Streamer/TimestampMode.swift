/// What the streamer does with the timestamps of the rows it replays.
package enum TimestampMode: String, Sendable, CaseIterable, Codable {
    /// Publish the file's timestamps unchanged.
    case original
    /// Stamp rows with the wall clock when they are read; rows that shared a timestamp in the
    /// file still share one (a host's scrape stays aligned).
    case now
    /// Keep the file's spacing and move each pass to the present (the default with `--loop`, so
    /// a replayed file builds history instead of rewriting the same seconds).
    case shift
}

/// Rewrites timestamps pass by pass under a ``TimestampMode``. For `shift`, pass k starts at
/// max(now, end of pass k-1 + spacing) so passes never overlap; ``nextPassStart(now:)`` tells the
/// streamer how long to wait so that data does not run ahead of the clock.
struct TimestampRewriter: Sendable {
    let mode: TimestampMode
    private var offset: Int64?
    private var lastOriginal: Int64?
    private var lastMapped: Int64 = .min
    /// Largest timestamp published so far (all passes).
    private(set) var maxMapped: Int64 = .min
    /// Smallest positive gap seen between distinct timestamps (1 s until one is seen).
    private(set) var spacing: Int64 = 1_000_000_000

    init(mode: TimestampMode) { self.mode = mode }

    /// Forgets the per-pass mapping; call before re-reading the input.
    mutating func beginPass() {
        offset = nil
        lastOriginal = nil
    }

    /// When the next `shift` pass may start without overlapping the previous one.
    func nextPassStart(now: Int64) -> Int64 {
        guard mode == .shift, maxMapped != .min else { return now }
        return max(now, maxMapped &+ spacing)
    }

    mutating func map(_ ts: Int64, now: Int64) -> Int64 {
        let mapped: Int64
        switch mode {
        case .original:
            mapped = ts
        case .now:
            if let last = lastOriginal, last == ts {
                mapped = lastMapped
            } else {
                noteGap(ts)
                mapped = max(now, lastMapped == .min ? now : lastMapped &+ 1)
                lastOriginal = ts
                lastMapped = mapped
            }
        case .shift:
            let passOffset = offset ?? (nextPassStart(now: now) &- ts)
            offset = passOffset
            noteGap(ts)
            mapped = ts &+ passOffset
        }
        if mapped > maxMapped { maxMapped = mapped }
        return mapped
    }

    private mutating func noteGap(_ ts: Int64) {
        if let last = lastOriginal, ts != last {
            let gap = ts > last ? ts - last : last - ts
            if gap > 0, gap < spacing { spacing = gap }
        }
        if mode == .shift { lastOriginal = ts }
    }
}
