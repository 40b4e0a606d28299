// swift-tools-version: 6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "tally",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Tally", targets: ["Tally"]),
        .library(name: "TallyDomain", targets: ["TallyDomain"]),
        .library(name: "TallyLMDB", targets: ["TallyLMDB"]),
        .library(name: "TallyChecksum", targets: ["TallyChecksum"]),
        .executable(name: "tally", targets: ["TallyCLI"]),
        .executable(name: "tally-fuzz", targets: ["TallyFuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.0.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.1.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.20.0", traits: []),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.65.0"),
    ],
    targets: [
        .systemLibrary(name: "CLMDB", pkgConfig: "lmdb", providers: [.apt(["liblmdb-dev"])]),
        .systemLibrary(name: "CXXHash", pkgConfig: "libxxhash", providers: [.apt(["libxxhash-dev"])]),
        .target(
            name: "TallyLMDB",
            dependencies: ["CLMDB", .product(name: "NIOConcurrencyHelpers", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TallyChecksum",
            dependencies: ["CXXHash", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TallyLog",
            dependencies: [
                "TallyLMDB", "TallyChecksum",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "TallyDomain", swiftSettings: swiftSettings),
        .target(
            name: "TallyProjections",
            dependencies: [
                "TallyLog", "TallyDomain", "TallyLMDB", .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Tally",
            dependencies: [
                "TallyLog", "TallyDomain", "TallyProjections", .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TallyServer",
            dependencies: [
                "Tally", "TallyChecksum",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            resources: [.copy("Resources/openapi.yaml")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "TallyCLI",
            dependencies: [
                "Tally", "TallyServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // A child process for the crash tests: appends from many tasks and reports every
        // acknowledged event on stdout. Lives in Sources/ because tests launch it as a process.
        .executableTarget(name: "TallyCrashChild", dependencies: ["Tally", "TallyLMDB"], swiftSettings: swiftSettings),
        // The fuzz targets (issue 9). The plain build replays files (the regression run over
        // fixtures/fuzz); scripts/fuzz.sh builds it with -sanitize=fuzzer,address -D FUZZING,
        // where libFuzzer supplies main.
        .executableTarget(name: "TallyFuzz", dependencies: ["Tally", "TallyDomain", "TallyLog", "TallyServer"], swiftSettings: swiftSettings),
        .target(name: "TallyTesting", dependencies: ["Tally"], swiftSettings: swiftSettings),
        .testTarget(name: "TallyLMDBTests", dependencies: ["TallyLMDB", "TallyTesting"], swiftSettings: swiftSettings),
        .testTarget(name: "TallyChecksumTests", dependencies: ["TallyChecksum"], swiftSettings: swiftSettings),
        .testTarget(
            name: "TallyLogTests",
            dependencies: ["TallyLog", "TallyLMDB", "TallyChecksum", "TallyTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TallyProjectionsTests",
            dependencies: [
                "TallyProjections", "TallyLog", "TallyLMDB", "Tally", "TallyTesting",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "TallyDomainTests", dependencies: ["TallyDomain"], swiftSettings: swiftSettings),
        .testTarget(name: "TallyTests", dependencies: ["Tally", "TallyChecksum", "TallyTesting"], swiftSettings: swiftSettings),
        .testTarget(
            name: "TallyServerTests",
            dependencies: [
                "TallyServer", "Tally", "TallyTesting",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "ArchitectureTests", swiftSettings: swiftSettings),
    ],
    swiftLanguageModes: [.v6]
)
