import Foundation
@testable import TSDB
import Primitives
import TelemetryTestSupport

func options(_ dir: TempDir, fsync: FsyncPolicy = .batch) -> TSDBOptions {
    var o = TSDBOptions(directory: dir.path)
    o.fsync = fsync
    o.backgroundMaintenance = false
    return o
}

func gpuLabels(_ metric: String, uuid: String, host: String, gpu: Int, namespace: String? = nil) -> Labels {
    var d = ["__name__": metric, "UUID": uuid, "Hostname": host, "gpu": String(gpu), "device": "nvidia\(gpu)",
             "modelName": "NVIDIA H100 80GB HBM3"]
    if let namespace { d["namespace"] = namespace }
    return Labels(d)
}

let t0: Int64 = 1_752_871_354_000_000_000
let sec: Int64 = 1_000_000_000
