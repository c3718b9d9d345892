// swift-tools-version:6.2
// Benchmark programs that must stay out of the main package's build (and so out of `make test` and CI):
// `make bench-http` builds this package in release mode. See bench/README.md.
import PackageDescription

let package = Package(
    name: "portero-bench-http",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "portero-bench-ceiling", targets: ["portero-bench-ceiling"])
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
    ],
    targets: [
        // The ceiling: a bare Hummingbird 2 handler answering GET /profile with the same user JSON Portero sends.
        .executableTarget(
            name: "portero-bench-ceiling",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        )
    ]
)
