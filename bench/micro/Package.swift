// swift-tools-version:6.2
// Micro-benchmarks (ordo-one/benchmark) of Portero's per-request and per-record work: token check and signing,
// applying records to the auth state, CRC-32C, encoding and reading back log lines. Its own package so that
// neither `make test` nor CI ever builds it or its dependencies: `make bench-micro` runs it. See bench/README.md.
import PackageDescription

let package = Package(
    name: "portero-bench-micro",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "portero", path: "../.."),
        // Swift 6.3 counts mallocs through the malloc interposer (no jemalloc to install); the trait list also
        // leaves out the default RuntimeInterposer, a package the local mirror does not carry.
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
    ],
    targets: [
        .executableTarget(
            name: "PorteroMicro",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "PorteroCore", package: "portero"),
                .product(name: "PorteroStore", package: "portero"),
                .product(name: "JWTKit", package: "jwt-kit"),
            ],
            path: "Benchmarks/PorteroMicro",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ]
)
