import Primitives
import TSDB

/// Routes a GPU's rows to a broker partition and a streamer shard by a stable hash of its UUID,
/// so every row of one GPU lands in one partition (in order) in every process.
///
/// ```swift
/// let p = Partitioner(partitions: 4)
/// p.partition(uuid: "GPU-5fd4f087-86f3-7a43-b711-4771313afc50")   // same in every process
/// ```
package struct Partitioner: Sendable, Equatable {
    package let partitions: Int

    package init(partitions: Int) {
        precondition(partitions > 0, "a topic has at least one partition")
        self.partitions = partitions
    }

    /// The partition of a GPU: xxHash64(uuid) mod partitions.
    package func partition(uuid: String) -> Int {
        Int(XXHash64.hash(uuid) % UInt64(partitions))
    }
}

/// `--shard i/N`: this streamer publishes only the GPUs whose hash falls on shard `index`, so N
/// streamers over the same input split it instead of publishing N copies. Uses a different seed
/// than ``Partitioner`` so every shard still feeds every partition.
package struct Shard: Sendable, Equatable, CustomStringConvertible {
    package let index: Int
    package let count: Int

    package static let all = Shard(uncheckedIndex: 0, count: 1)

    private init(uncheckedIndex: Int, count: Int) {
        self.index = uncheckedIndex
        self.count = count
    }

    package init(index: Int, count: Int) throws(PipelineConfigError) {
        guard count >= 1, index >= 0, index < count else {
            throw .invalid("shard \(index)/\(count): need 0 <= i < N, for example --shard 0/2")
        }
        self.init(uncheckedIndex: index, count: count)
    }

    /// Parses `i/N`.
    package init(parsing text: String) throws(PipelineConfigError) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else {
            throw .invalid("shard \"\(text)\": expected i/N, for example --shard 0/2")
        }
        try self.init(index: i, count: n)
    }

    static let seed: UInt64 = 0x5348_4152_44   // "SHARD"

    package func owns(uuid: String) -> Bool {
        count == 1 || Int(XXHash64.hash(uuid, seed: Shard.seed) % UInt64(count)) == index
    }

    package var description: String { "\(index)/\(count)" }
}

/// A configuration value that cannot work, with what to change.
package enum PipelineConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalid(String)
    package var description: String {
        switch self { case .invalid(let m): return m }
    }
}
