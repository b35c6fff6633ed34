import Foundation
import NIOCore
import Primitives

extension Streamer {
    /// Polls one dcgm-exporter endpoint every `scrapeInterval` until stopped and publishes what it
    /// reads. A failed scrape is logged and counted; the next tick tries again.
    func scrapeLoop(url: String, http: ScrapeClient, partitions: Int, publisher: PartitionPublisher) async throws {
        let converter = ScrapeConverter(instance: Self.instance(of: url), job: config.scrapeJob)
        var state = PublishState(mode: .original, rate: config.rate, partitions: partitions, batchRows: config.batchRows)
        let interval = config.scrapeInterval
        var next = ContinuousClock.now
        while !Task.isCancelled && !isStopped {
            let scrapeTime = wallClockNanos()
            do {
                let body = try await http.fetch(url, timeout: min(interval, .seconds(30)))
                let (samples, problems) = PrometheusText.parse(body)
                if let first = problems.first {
                    logger.warning("scrape had unparsable lines", metadata: ["url": "\(url)", "count": "\(problems.count)", "first": "\(first)"])
                }
                let (document, skipped) = converter.document(from: samples, scrapeTime: scrapeTime)
                metrics.update { $0.scrapes += 1; $0.rowsSkipped += skipped }
                var parser = DCGMCSVParser(strict: false)
                try document.withUnsafeBytes { try state.feed(&parser, $0, shard: config.shard) }
                try state.feed(&parser, nil, shard: config.shard)
                try await state.flushReady(to: publisher, metrics: metrics)
                for (p, m) in state.batcher.drain() { await publisher.enqueue(partition: p, message: m) }
            } catch is CancellationError {
                break
            } catch {
                metrics.update { $0.scrapeErrors += 1 }
                logger.warning("scrape failed", metadata: ["url": "\(url)", "error": "\(error)"])
            }
            next = next + interval
            if next < ContinuousClock.now { next = ContinuousClock.now }
            try await Task.sleep(until: next, clock: .continuous)
        }
    }

    static func instance(of url: String) -> String {
        guard let u = URL(string: url), let host = u.host else { return url }
        return u.port.map { "\(host):\($0)" } ?? host
    }
}
