// swift-tools-version: 6.1

// The command store's reply decoder, fuzzed apart from the rest (docs/fuzzing.md). The decoder
// (`CommandReply.decode`) needs only `RecordKey`, but its module, RetentionStores, brings GRDB, PostgresNIO, SwiftNIO and
// swift-crypto (BoringSSL): some 840 build steps, which cost more than all the other targets
// together and more than `make test` can spend on a sanitizer build. So this package compiles the
// decoder's own source files, linked here from Sources/, into modules of the same names: the
// code fuzzed is the code shipped, without its module's dependencies. It does not depend on the
// root package, whose module names it reuses.

import PackageDescription

let package = Package(
    name: "RetentionFuzzCommandReply",
    platforms: [.macOS(.v15)],
    targets: [
        .target(name: "CFuzzer"),
        .target(name: "FuzzSupport", dependencies: ["CFuzzer"]),
        // Sources/RetentionEngine/RecordKey.swift and KeyType.swift, linked.
        .target(name: "RetentionEngine"),
        // Sources/RetentionStores/CommandReply.swift and CommandReplyReader.swift, linked.
        .target(name: "RetentionStores", dependencies: ["RetentionEngine"]),
        .executableTarget(name: "FuzzCommandReply", dependencies: ["FuzzSupport", "RetentionEngine", "RetentionStores"]),
    ],
    swiftLanguageModes: [.v6]
)

for target in package.targets where target.name != "CFuzzer" {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    settings.append(.enableUpcomingFeature("InternalImportsByDefault"))
    target.swiftSettings = settings
    if target.type == .executable {
        // gold fails with an internal error on these links; the toolchain's lld links them.
        target.linkerSettings = [.unsafeFlags(["-use-ld=lld"])]
    }
}
