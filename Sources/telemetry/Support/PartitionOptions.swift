import ArgumentParser
import Broker

/// `--partitions` and `--topic-partitions`, which the brokers and the proxy must be given
/// alike: a broker creates topics with them, the proxy routes by them. Each flag also reads
/// its environment variable (the flag wins).
struct PartitionOptions: ParsableArguments {
    @Option(help: "Partitions of a topic, created with these on first use; give the proxy the brokers' value (env PARTITIONS_PER_TOPIC).")
    var partitions: Int = Int(Env.string("PARTITIONS_PER_TOPIC", "")) ?? 4
    @Option(name: .customLong("topic-partitions"), help: "Per-topic partition counts, 'topic=8,other=2'; give the proxy the brokers' value (env TOPIC_PARTITIONS).")
    var topicPartitions: String = Env.string("TOPIC_PARTITIONS", "")

    /// The partition count of a topic not named in ``topicCounts()``.
    func perTopic() throws -> Int {
        guard partitions > 0 else { throw ValidationError("--partitions must be at least 1") }
        return partitions
    }

    /// The per-topic counts of `--topic-partitions`.
    func topicCounts() throws -> [String: Int] {
        guard let counts = parseTopicPartitions(topicPartitions) else {
            throw ValidationError("--topic-partitions must look like 'topic=8,other=2'")
        }
        return counts
    }
}
