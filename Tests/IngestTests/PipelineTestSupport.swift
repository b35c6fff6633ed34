import Foundation
import Synchronization
import TSDB
@testable import Ingest
import TelemetryTestSupport

/// The sample DCGM export shared by the project (2,470 rows, 247 GPUs, 31 hosts).
let sampleCSVPath = TestPaths.sampleCSV

func temporaryDirectory(_ name: String) -> String {
    let path = NSTemporaryDirectory() + "ingest-\(name)-\(UUID().uuidString.prefix(8))"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// An in-memory broker with consumer-group semantics close to the real one (in-flight records,
/// ack by id) and hooks to inject failures. One group only.
final class MemoryBroker: BrokerClient, @unchecked Sendable {
    struct Record { var id: String; var payload: [UInt8]; var acked = false; var inFlight = false; var deliveries = 0 }
    let partitions: Int
    private let lock = NSLock()
    private var logs: [String: [[Record]]] = [:]
    private var nextID = 0
    /// Called before each produce; throw to fail it.
    var produceHook: (@Sendable (Int) throws -> Void)?
    /// Delay added to each produce (a slow broker).
    var produceDelay: Duration = .zero
    private(set) var produceCalls = 0

    init(partitions: Int = 4) { self.partitions = partitions }

    private func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock(); defer { lock.unlock() }
        return try body()
    }

    func partitionCount(topic: String) async throws -> Int { partitions }

    func produce(topic: String, partition: Int, payloads: [[UInt8]]) async throws -> [String] {
        let call = withLock { produceCalls += 1; return produceCalls }
        try produceHook?(call)
        if produceDelay > .zero { try await Task.sleep(for: produceDelay) }
        return withLock {
            var parts = logs[topic] ?? Array(repeating: [], count: partitions)
            var ids: [String] = []
            for p in payloads {
                nextID += 1
                let id = "\(topic)-\(partition)-\(nextID)"
                parts[partition].append(Record(id: id, payload: p))
                ids.append(id)
            }
            logs[topic] = parts
            return ids
        }
    }

    func poll(topic: String, partition: Int, group: String, maxRecords: Int, wait: Duration) async throws -> [ConsumedMessage] {
        let deadline = ContinuousClock.now + wait
        while true {
            let out: [ConsumedMessage] = withLock {
                guard var parts = logs[topic] else { return [] }
                var out: [ConsumedMessage] = []
                for i in parts[partition].indices where !parts[partition][i].acked && !parts[partition][i].inFlight {
                    parts[partition][i].inFlight = true
                    parts[partition][i].deliveries += 1
                    let r = parts[partition][i]
                    out.append(ConsumedMessage(id: r.id, payload: r.payload, deliveryCount: r.deliveries))
                    if out.count == maxRecords { break }
                }
                logs[topic] = parts
                return out
            }
            if !out.isEmpty || ContinuousClock.now >= deadline { return out }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    func ack(topic: String, partition: Int, group: String, ids: [String]) async throws -> Int {
        withLock {
            guard var parts = logs[topic] else { return 0 }
            var n = 0
            let set = Set(ids)
            for i in parts[partition].indices where set.contains(parts[partition][i].id) && !parts[partition][i].acked {
                parts[partition][i].acked = true
                n += 1
            }
            logs[topic] = parts
            return n
        }
    }

    /// Makes every in-flight, unacked record visible again (a visibility timeout).
    func expireInFlight() {
        withLock {
            for (t, var parts) in logs {
                for p in parts.indices { for i in parts[p].indices where !parts[p][i].acked { parts[p][i].inFlight = false } }
                logs[t] = parts
            }
        }
    }

    func close() async {}

    func records(topic: String) -> [[Record]] { withLock { logs[topic] ?? Array(repeating: [], count: partitions) } }
    func unacked(topic: String) -> Int { withLock { (logs[topic] ?? []).joined().filter { !$0.acked }.count } }

    /// Every row published to `topic`, per partition, decoded.
    func decodedRows(topic: String = "telemetry") throws -> [[DCGMRecord]] {
        try records(topic: topic).map { recs in try recs.flatMap { try MessageCodec.decode($0.payload) } }
    }
}

/// A sink that keeps what it is given, optionally failing or stalling.
final class MemorySink: SampleSink, @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [DCGMRecord] = []
    var failuresLeft = 0
    var delay: Duration = .zero
    private(set) var writes = 0

    func write(documents: [[UInt8]]) async throws -> Int {
        if delay > .zero { try await Task.sleep(for: delay) }
        var records: [DCGMRecord] = []
        for (i, doc) in documents.enumerated() {
            do { records += try DCGMCSVParser.parse(doc, strict: true).0 } catch {
                throw SinkError.malformed(document: i, reason: "\(error)")
            }
        }
        try lock.withLock {
            writes += 1
            if failuresLeft > 0 {
                failuresLeft -= 1
                throw SinkError.storage("injected failure")
            }
            stored.append(contentsOf: records)
        }
        return records.count
    }

    var records: [DCGMRecord] { lock.withLock { stored } }
}

func sampleRecords() throws -> [DCGMRecord] {
    var rows: [DCGMRecord] = []
    _ = try DCGMCSVParser.parseFile(path: sampleCSVPath) { rows.append($0) }
    return rows
}
