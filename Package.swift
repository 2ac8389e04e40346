// swift-tools-version: 6.1

import PackageDescription

let package = Package(
    name: "retentiond",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "RetentionRules", targets: ["RetentionRules"]),
        .executable(name: "retentionctl", targets: ["retentionctl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
    ],
    targets: [
        // The rules language: durations, calendar arithmetic, conditions, parsing and diagnostics.
        // Knows nothing of the command line or systemd.
        .target(
            name: "RetentionRules",
            dependencies: [.product(name: "Yams", package: "Yams")]
        ),
        .executableTarget(
            name: "retentionctl",
            dependencies: [
                "RetentionRules",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "RetentionRulesTests",
            dependencies: [
                "RetentionRules",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "RetentionCtlTests",
            dependencies: ["retentionctl"]
        ),
    ],
    swiftLanguageModes: [.v6]
)

for target in package.targets where [.executable, .test, .regular].contains(target.type) {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    settings.append(.enableUpcomingFeature("InternalImportsByDefault"))
    settings.append(.enableUpcomingFeature("NonisolatedNonsendingByDefault"))
    settings.append(.unsafeFlags(["-Xfrontend", "-require-explicit-sendable"]))
    target.swiftSettings = settings
}
