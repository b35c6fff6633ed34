// swift-tools-version: 6.1
import PackageDescription

import class Foundation.ProcessInfo

// Benchmarks pull in package-benchmark and its malloc interposer; plain builds and CI
// skip them. Set TELEMETRY_BENCHMARKS=1 to build and run them (see Benchmarks/README.md).
let withBenchmarks = ProcessInfo.processInfo.environment["TELEMETRY_BENCHMARKS"] != nil
// The libFuzzer harnesses (Fuzz/, see Fuzz/README.md) build only with TELEMETRY_FUZZ=1, which
// also instruments our own modules (not the dependencies) for coverage and AddressSanitizer.
let withFuzz = ProcessInfo.processInfo.environment["TELEMETRY_FUZZ"] != nil

var dependencies: [Package.Dependency] = [
    .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
    // traits: [] keeps SwiftPM from rebuilding hummingbird at random (trait resolution churn).
    .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
    .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
    .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
    .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    // Already in the graph through async-http-client; named so scrapes can trust --scrape-ca-file.
    .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
]

var targets: [Target] = [
    .systemLibrary(
        name: "CLZ4",
        pkgConfig: "liblz4",
        providers: [.apt(["liblz4-dev"])]
    ),
    // CRC-32C with the CPU's instruction (SSE 4.2, chosen at run time): what Primitives'
    // CRC32C uses where the CPU has it, its software path elsewhere.
    .target(name: "CCRC32C"),
    // Hashes, fsync policy, durable files, the directory lock, JSON text, RFC 3339 / epoch /
    // duration / listen-address parsing, base64, key files: what every module shares. It
    // depends on nothing but the standard library, Foundation and the CRC-32C instruction shim.
    .target(name: "Primitives", dependencies: ["CCRC32C"]),
    .systemLibrary(
        name: "CSnappy",
        pkgConfig: "snappy",
        providers: [.apt(["libsnappy-dev"])]
    ),
    .systemLibrary(
        name: "CZlib",
        pkgConfig: "zlib",
        providers: [.apt(["zlib1g-dev"])]
    ),
    // RE2 (linear-time regular expressions, Prometheus' semantics) behind a tiny C API.
    .target(
        name: "CRE2",
        linkerSettings: [.linkedLibrary("re2")]
    ),
    .target(
        name: "TSDB",
        dependencies: [
            "CLZ4",
            "CRE2",
            "Primitives",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
        ]
    ),
    // The HTTP server plumbing every role's server shares: slow-client timeouts and the one
    // application builder. It knows no role's routes.
    .target(
        name: "HTTPServing",
        dependencies: [
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
        ]
    ),
    .target(
        name: "Broker",
        dependencies: [
            "Primitives",
            "HTTPServing",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]
    ),
    .target(
        name: "Ingest",
        dependencies: [
            "Primitives",
            "TSDB",
            "Broker",
            "HTTPServing",
            "CSnappy",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]
    ),
    .target(
        name: "PromQL",
        dependencies: [
            "TSDB",
            "CRE2",
            .product(name: "Logging", package: "swift-log"),
        ]
    ),
    .target(
        name: "APIServer",
        dependencies: [
            "Primitives",
            "TSDB",
            "CZlib",
            "HTTPServing",
            "Ingest",
            "PromQL",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ],
        resources: [.copy("UI"), .copy("Docs")]
    ),
    .executableTarget(
        name: "telemetry",
        dependencies: [
            "Primitives", "TSDB", "Ingest", "Broker", "HTTPServing", "APIServer",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
        ]
    ),
    // What several test targets share (seeded generators, raw HTTP, child processes, loopback
    // servers, the crash writer's data): test-only, never a product.
    .target(
        name: "TelemetryTestSupport",
        dependencies: [
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ],
        path: "Tests/TestSupport"
    ),
    // The crash tests' writer (`telemetry-debug-append`): test-only, not a product, not in
    // the shipped binary or the image (which build `--product telemetry`).
    .executableTarget(
        name: "telemetry-debug-append",
        dependencies: [
            "TSDB", "Primitives", "TelemetryTestSupport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ],
        path: "Tests/Tools/DebugAppend"
    ),
    .testTarget(name: "PrimitivesTests", dependencies: ["Primitives", "TelemetryTestSupport"]),
    .testTarget(name: "TSDBTests", dependencies: ["TSDB", "Primitives", "TelemetryTestSupport", .product(name: "GRDB", package: "GRDB.swift")]),
    .testTarget(
        name: "PromQLTests",
        dependencies: ["PromQL", "TSDB"],
        exclude: ["compare_prometheus.sh", "compare_prometheus.py"]
    ),
    .testTarget(
        name: "IngestTests",
        dependencies: [
            "Ingest", "TSDB", "Broker", "Primitives", "TelemetryTestSupport",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]
    ),
    .testTarget(
        name: "BrokerTests",
        dependencies: [
            "Broker", "HTTPServing", "Primitives", "TelemetryTestSupport",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]
    ),
    .testTarget(
        name: "APIServerTests",
        dependencies: [
            "APIServer", "HTTPServing", "TSDB", "Ingest", "CZlib", "Primitives", "TelemetryTestSupport",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ],
        exclude: ["schemathesis.sh", "influx_client.sh", "prometheus_remote_write.sh", "dcgm_dashboard_12239.json"]
    ),
    .testTarget(
        name: "EndToEndTests",
        dependencies: [
            "Primitives", "TSDB", "Ingest", "Broker", "APIServer", "TelemetryTestSupport",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]
    ),
]

if withBenchmarks {
    dependencies.append(.package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]))
    targets.append(
        .executableTarget(
            name: "TSDBBenchmarks",
            dependencies: [
                "Primitives", "TSDB", "Ingest", "TelemetryTestSupport",
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/TSDBBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    )
}

if withFuzz {
    let sanitizers = ["-sanitize=fuzzer,address"]
    for target in targets where ["Primitives", "HTTPServing", "TSDB", "Broker", "Ingest", "APIServer"].contains(target.name) {
        target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(sanitizers)]
    }
    targets.append(
        .executableTarget(
            name: "TelemetryFuzz",
            dependencies: [
                "Primitives", "TSDB", "Ingest", "Broker", "APIServer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Fuzz/TelemetryFuzz",
            swiftSettings: [.unsafeFlags(sanitizers + ["-parse-as-library"])],
            linkerSettings: [.unsafeFlags(sanitizers)]
        )
    )
}

let package = Package(
    name: "telemetry",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "telemetry", targets: ["telemetry"]),
        .library(name: "TSDB", targets: ["TSDB"]),
    ],
    dependencies: dependencies,
    targets: targets,
    swiftLanguageModes: [.v6]
)
