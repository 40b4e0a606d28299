// swift-tools-version: 6.1
// Micro-benchmarks per layer (ordo-one/benchmark). Its own package so the main build and
// CI do not pay for the benchmark dependencies. Run from this directory:
//   swift package benchmark                       # all suites
//   swift package benchmark --filter "XXH3.*"     # some
//   swift package benchmark thresholds check      # compare with Thresholds/ (malloc counts)
import PackageDescription

let package = Package(
    name: "TallyBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "tally", path: "../"),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.0", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "Storage",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Tally", package: "tally"),
                .product(name: "TallyChecksum", package: "tally"),
                .product(name: "TallyLMDB", package: "tally"),
            ],
            path: "Benchmarks/Storage",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "Payments",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "TallyDomain", package: "tally"),
            ],
            path: "Benchmarks/Payments",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
