import Broker

/// A ``BrokerClient`` that calls a `MessageBroker` in the same process (the embedded stack):
/// no serialisation, no sockets, the same durability and consumer-group semantics.
package struct InProcessBrokerClient: BrokerClient {
    package let broker: MessageBroker

    package init(_ broker: MessageBroker) {
        self.broker = broker
    }

    package func partitionCount(topic: String) async throws -> Int {
        await broker.partitionCount(topic: topic)
    }

    package func produce(topic: String, partition: Int, payloads: [[UInt8]]) async throws -> [String] {
        do {
            return try await broker.produce(topic: topic, partition: partition, payloads: payloads)
        } catch let error as BrokerError {
            throw Self.map(error)
        }
    }

    package func poll(topic: String, partition: Int, group: String, maxRecords: Int, wait: Duration) async throws -> [ConsumedMessage] {
        do {
            let records = try await broker.poll(topic: topic, partition: partition, group: group, maxRecords: maxRecords, wait: wait)
            return records.map { ConsumedMessage(id: $0.id, payload: $0.payload, deliveryCount: $0.deliveryCount) }
        } catch let error as BrokerError {
            throw Self.map(error)
        }
    }

    @discardableResult
    package func ack(topic: String, partition: Int, group: String, ids: [String]) async throws -> Int {
        do {
            return try await broker.ack(topic: topic, partition: partition, group: group, ids: ids).acked
        } catch let error as BrokerError {
            throw Self.map(error)
        }
    }

    package func lag(topic: String, partition: Int, group: String) async -> Int? {
        let info = await broker.topicsInfo()
        guard let t = info.first(where: { $0.name == topic }), partition < t.partitions.count else { return nil }
        return t.partitions[partition].groups.first { $0.name == group }?.lag
    }

    package func close() async {}

    static func map(_ error: BrokerError) -> BrokerClientError {
        switch error {
        case .unavailable(let reason, let retryAfter):
            return .retryable(status: 503, retryAfter: retryAfter, message: reason)
        case .shutDown:
            return .retryable(status: 503, retryAfter: nil, message: error.description)
        case .io:
            return .retryable(status: 500, retryAfter: nil, message: error.description)
        default:
            return .rejected(status: error.httpStatus, message: error.description)
        }
    }
}
