import Testing
@testable import TSDB
import TelemetryTestSupport

/// The inventory reads every writer's spelling of the GPU labels through one alias table,
/// while series keep exactly the labels they were written with.
@Suite("GPU label aliases")
struct GPULabelAliasesTests {
    func withDB(_ body: (TSDB) async throws -> Void) async throws {
        let dir = TempDir("aliases")
        let db = try await TSDB.open(options(dir))
        do { try await body(db) } catch { try? await db.close(); throw error }
        try await db.close()
    }

    func write(_ db: TSDB, _ labels: [String: String], at t: Int64 = t0, value: Double = 1) async throws {
        try await db.append([LabeledSample(labels: Labels(labels), timestamp: t, value: value)])
    }

    @Test("line protocol / Telegraf spellings (uuid, gpu_id or index, host, name) make GPUs")
    func otherWriters() async throws {
        try await withDB { db in
            // The benchmark's line protocol: tags uuid, gpu_id, Hostname.
            try await write(db, ["__name__": "dcgm_gpu_util", "uuid": "GPU-lp", "gpu_id": "3", "Hostname": "h-lp"])
            // Telegraf inputs.nvidia_smi: uuid, index, name, and the agent's host tag.
            try await write(db, ["__name__": "nvidia_smi_utilization_gpu", "uuid": "GPU-tg", "index": "1", "name": "Tesla T4", "host": "h-tg"])
            let gpus = db.gpus()
            #expect(gpus.map(\.uuid) == ["GPU-lp", "GPU-tg"])
            #expect(gpus[0].hostname == "h-lp" && gpus[0].gpuIndex == "3")
            #expect(gpus[1].hostname == "h-tg" && gpus[1].gpuIndex == "1" && gpus[1].model == "Tesla T4")
            #expect(db.hosts().map(\.hostname) == ["h-lp", "h-tg"])
            // The series keep their own label names: queries by them still work.
            #expect(db.series(matchers: [try LabelMatcher("uuid", .equal, "GPU-tg")]).count == 1)
            #expect(db.series(matchers: [try LabelMatcher("UUID", .equal, "GPU-tg")]).isEmpty)
            #expect(db.uuidLabelName(of: "GPU-tg") == "uuid")
        }
    }

    @Test("a fleet upgrading dcgm-exporter from Hostname to hostname sees each GPU once, with its host")
    func exporterUpgrade() async throws {
        try await withDB { db in
            for gpu in 0..<2 {
                let uuid = "GPU-\(gpu)"
                try await write(db, ["__name__": "DCGM_FI_DEV_GPU_TEMP", "UUID": uuid, "Hostname": "dgx-1", "gpu": "\(gpu)", "modelName": "H100"], at: t0)
            }
            for gpu in 0..<2 {
                let uuid = "GPU-\(gpu)"
                try await write(db, ["__name__": "DCGM_FI_DEV_GPU_TEMP", "UUID": uuid, "hostname": "dgx-1", "gpu": "\(gpu)", "modelName": "H100",
                                     "pci_bus_id": "00000000:0\(gpu):00.0"], at: t0 + sec)
            }
            let gpus = db.gpus()
            #expect(gpus.count == 2)
            #expect(gpus.allSatisfy { $0.hostname == "dgx-1" && $0.seriesCount == 2 && $0.lastSeen == t0 + sec && $0.firstSeen == t0 })
            #expect(db.hosts() == [HostInfo(hostname: "dgx-1", gpuCount: 2, seriesCount: 4)])
            #expect(db.gpus(hostname: "dgx-1").map(\.uuid) == ["GPU-0", "GPU-1"])
            #expect(db.seriesCount == 4, "both spellings are kept as written")
        }
    }

    @Test("series without a GPU UUID (NVSwitch, CPU, NVLink peer gpu_uuid) are stored but create no GPU or host")
    func nonGPUSeries() async throws {
        try await withDB { db in
            try await write(db, ["__name__": "DCGM_FI_DEV_NVSWITCH_LINK_THROUGHPUT_TX", "nvswitch": "0", "nvlink": "3", "hostname": "sw-host"])
            try await write(db, ["__name__": "DCGM_FI_DEV_CPU_UTIL_TOTAL", "cpu": "0", "hostname": "cpu-host", "namespace": "kube-system"])
            try await write(db, ["__name__": "DCGM_EXP_P2P_STATUS", "gpu_uuid": "GPU-peer", "hostname": "sw-host"])
            try await write(db, ["__name__": "DCGM_FI_DEV_GPU_UTIL", "UUID": "GPU-real", "hostname": "sw-host", "gpu": "0"])
            #expect(db.seriesCount == 4)
            #expect(db.gpus().map(\.uuid) == ["GPU-real"])
            #expect(db.gpu(uuid: "GPU-peer") == nil)
            #expect(db.hosts() == [HostInfo(hostname: "sw-host", gpuCount: 1, seriesCount: 3)])
            #expect(db.namespaces().isEmpty, "kube-system holds no GPU")
        }
    }

    @Test("exported_namespace / exported_pod (Prometheus with honor_labels off) win over the target's")
    func exportedLabels() async throws {
        try await withDB { db in
            try await write(db, ["__name__": "DCGM_FI_DEV_GPU_UTIL", "UUID": "GPU-k", "Hostname": "n1", "gpu": "0",
                                 "namespace": "gpu-operator", "pod": "dcgm-exporter-abcde",
                                 "exported_namespace": "team-a", "exported_pod": "trainer-0", "exported_container": "main"])
            try await write(db, ["__name__": "DCGM_FI_DEV_GPU_UTIL", "UUID": "GPU-s", "Hostname": "n1", "gpu": "1",
                                 "namespace": "team-b", "pod": "infer-1"])
            let gpus = db.gpus()
            #expect(gpus[0].namespaces == ["team-a"] && gpus[0].pods == ["trainer-0"])
            #expect(gpus[1].namespaces == ["team-b"] && gpus[1].pods == ["infer-1"])
            #expect(db.namespaces().map(\.namespace) == ["team-a", "team-b"])
            #expect(GPULabelAliases.identity(of: Labels(["UUID": "x", "exported_container": "main", "container": "exporter"]))?.container == "main")
        }
    }

    @Test("MIG slices are listed on their GPU, not as GPUs")
    func migInstances() async throws {
        try await withDB { db in
            for (id, profile) in [("1", "1g.10gb"), ("2", "1g.10gb"), ("13", "3g.40gb")] {
                try await write(db, ["__name__": "DCGM_FI_PROF_GR_ENGINE_ACTIVE", "UUID": "GPU-mig", "hostname": "a100", "gpu": "0",
                                     "GPU_I_ID": id, "GPU_I_PROFILE": profile])
            }
            let gpus = db.gpus()
            #expect(gpus.count == 1)
            #expect(gpus[0].migInstances == [MIGInstance(id: "1", profile: "1g.10gb"), MIGInstance(id: "2", profile: "1g.10gb"),
                                            MIGInstance(id: "13", profile: "3g.40gb")])
            #expect(gpus[0].seriesCount == 3)
        }
    }

    @Test("the first alias present wins; a series is counted under one UUID only")
    func precedence() {
        let l = Labels(["UUID": "GPU-A", "uuid": "GPU-B", "Hostname": "H", "hostname": "h", "host": "agent", "gpu": "0", "index": "9"])
        let id = GPULabelAliases.identity(of: l)
        #expect(id?.uuid == "GPU-A" && id?.hostname == "H" && id?.index == "0")
        #expect(GPULabelAliases.identity(of: Labels(["__name__": "m", "gpu_uuid": "GPU-peer"])) == nil)
    }

    @Test("merging sorted posting lists")
    func mergeSorted() {
        #expect([1, 3, 5].mergeSorted([2, 3, 6]) == [1, 2, 3, 5, 6] as [UInt32])
        #expect(([] as [UInt32]).mergeSorted([4]) == [4])
        #expect(([7] as [UInt32]).mergeSorted([]) == [7])
    }
}
