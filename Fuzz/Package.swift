// swift-tools-version: 6.1

// The libFuzzer targets (docs/fuzzing.md). A package of its own so that the main package's build
// is untouched: these executables only make sense built with `-sanitize=fuzzer,address`, which
// `make fuzz` and `make fuzz-smoke` pass on the command line so that every Swift module under
// test (RetentionRules, Yams, ...) is instrumented, not only the few lines here.

import PackageDescription

// A path dependency's identity is its directory's name: the checkout's, whatever it is called.
let root = Context.packageDirectory.split(separator: "/").dropLast().last.map(String.init) ?? "retentiond"

let package = Package(
    name: "RetentionFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(path: "..")],
    targets: [
        // libFuzzer's driver, declared for Swift, and the few lines every target shares.
        .target(name: "CFuzzer"),
        .target(name: "FuzzSupport", dependencies: ["CFuzzer"]),
        // The rules language as a rules file: YAML, keys, durations, zones, conditions, merging.
        .executableTarget(name: "FuzzRules", dependencies: ["FuzzSupport", .product(name: "RetentionRules", package: root)]),
        // A stores file, parsed and cross-checked against a fixed rule set.
        .executableTarget(name: "FuzzStores", dependencies: ["FuzzSupport", .product(name: "RetentionRules", package: root)]),
        // A `when:` condition on its own.
        .executableTarget(name: "FuzzCondition", dependencies: ["FuzzSupport", .product(name: "RetentionRules", package: root)]),
        // A duration (`10y`, `14 months`) and the calendar arithmetic it drives.
        .executableTarget(name: "FuzzDuration", dependencies: ["FuzzSupport", .product(name: "RetentionRules", package: root)]),
        // A command-line timestamp (`2026-05-10T15:00:00+02:00`) and its reading in a zone.
        // (The command store's reply decoder has a package of its own: CommandReply/.)
        .executableTarget(name: "FuzzTimestamp", dependencies: ["FuzzSupport", .product(name: "RetentionRules", package: root)]),
    ],
    swiftLanguageModes: [.v6]
)

for target in package.targets where target.type != .system && target.name != "CFuzzer" {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    settings.append(.enableUpcomingFeature("InternalImportsByDefault"))
    target.swiftSettings = settings
    if target.type == .executable {
        // gold fails with an internal error on these links (libFuzzer's `main` beside SwiftPM's
        // renamed one); the toolchain's lld links them.
        target.linkerSettings = (target.linkerSettings ?? []) + [.unsafeFlags(["-use-ld=lld"])]
    }
}
