/// The one table that says which label names carry a GPU's identity, whatever wrote the series:
/// DCGM CSV exports, dcgm-exporter (old `Hostname` and new `hostname`) scraped by Prometheus
/// and remote-written, Telegraf's `inputs.nvidia_smi`, or a script's line protocol.
///
/// The inventory (``TSDB/gpus()``, ``TSDB/hosts()``, ``TSDB/namespaces()``) reads series
/// through it; series themselves keep exactly the labels they were written with, so queries by
/// the original names keep working. For each field the first name present on a series wins.
///
/// | field | label names, in order | written by |
/// | --- | --- | --- |
/// | UUID | `UUID`, `uuid` | dcgm-exporter, DCGM CSV / Telegraf `nvidia_smi`, line protocol |
/// | host | `Hostname`, `hostname`, `host` | older dcgm-exporter / newer dcgm-exporter / Telegraf's global tag |
/// | index | `gpu`, `gpu_id`, `index` | dcgm-exporter / DCGM CSV / Telegraf |
/// | device | `device` | dcgm-exporter (`nvidia0`) |
/// | model | `modelName`, `model_name`, `name` | dcgm-exporter / JSON / Telegraf |
/// | namespace | `exported_namespace`, `namespace` | Prometheus renames the exporter's `namespace` to `exported_namespace` when the target has its own (honor_labels off) |
/// | pod | `exported_pod`, `pod` | likewise |
/// | container | `exported_container`, `container` | likewise |
/// | MIG instance | `GPU_I_ID` (with `GPU_I_PROFILE`) | dcgm-exporter on MIG-enabled GPUs |
///
/// Deliberately *not* a UUID alias: `gpu_uuid`. Metrics that relate two devices (NVLink/P2P
/// status, NVSwitch links) can name a GPU other than the one the series belongs to, so a
/// series carrying only `gpu_uuid` must not create or join a GPU. Series with no UUID alias
/// at all (NVSwitch, CPU, exporter self-metrics) are stored like any other and create no GPU.
///
/// ```swift
/// let id = GPULabelAliases.identity(of: Labels(["__name__": "m", "uuid": "GPU-1", "hostname": "h"]))
/// id?.hostname   // "h"
/// ```
public enum GPULabelAliases {
    public static let uuid = ["UUID", "uuid"]
    public static let hostname = ["Hostname", "hostname", "host"]
    public static let index = ["gpu", "gpu_id", "index"]
    public static let device = ["device"]
    public static let model = ["modelName", "model_name", "name"]
    public static let namespace = ["exported_namespace", "namespace"]
    public static let pod = ["exported_pod", "pod"]
    public static let container = ["exported_container", "container"]
    public static let migInstance = ["GPU_I_ID"]
    public static let migProfile = ["GPU_I_PROFILE"]

    /// The value of the first of `names` the series carries.
    @inlinable
    public static func first(_ names: [String], in labels: Labels) -> String? {
        for name in names { if let v = labels[name] { return v } }
        return nil
    }

    /// The GPU fields a series carries; nil when it carries no GPU UUID (it is then no GPU's).
    public static func identity(of labels: Labels) -> GPUIdentity? {
        guard let uuid = first(uuid, in: labels) else { return nil }
        return GPUIdentity(
            uuid: uuid,
            hostname: first(hostname, in: labels),
            index: first(index, in: labels),
            device: first(device, in: labels),
            model: first(model, in: labels),
            namespace: first(namespace, in: labels),
            pod: first(pod, in: labels),
            container: first(container, in: labels),
            migInstance: first(migInstance, in: labels).map { MIGInstance(id: $0, profile: first(migProfile, in: labels)) }
        )
    }
}

/// What one series says about the GPU it belongs to, read through ``GPULabelAliases``.
public struct GPUIdentity: Sendable, Equatable {
    public var uuid: String
    public var hostname: String?
    public var index: String?
    public var device: String?
    public var model: String?
    public var namespace: String?
    public var pod: String?
    public var container: String?
    public var migInstance: MIGInstance?
}

/// A MIG (Multi-Instance GPU) slice of a GPU: dcgm-exporter's `GPU_I_ID` and `GPU_I_PROFILE`
/// (for example `1g.10gb`).
public struct MIGInstance: Sendable, Codable, Hashable, Comparable {
    public var id: String
    public var profile: String?

    public init(id: String, profile: String?) {
        self.id = id
        self.profile = profile
    }

    public static func < (a: MIGInstance, b: MIGInstance) -> Bool {
        let (x, y) = (Int(a.id), Int(b.id))
        if let x, let y, x != y { return x < y }
        return (a.id, a.profile ?? "") < (b.id, b.profile ?? "")
    }
}
