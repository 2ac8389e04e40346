// swift-tools-version: 6.1

import PackageDescription

let package = Package(
    name: "retentiond",
    platforms: [.macOS(.v15)],
    // The libraries' declarations are `package`: only this package's targets use them, so the
    // engine and the stores are no products. What stays a product, and public, is what a package of
    // its own uses: the rules language's parsers and calendar, called by the fuzzers (Fuzz/,
    // docs/fuzzing.md), and Systemd, which knows nothing of retention.
    products: [
        .library(name: "RetentionRules", targets: ["RetentionRules"]),
        .library(name: "Systemd", targets: ["Systemd"]),
        .executable(name: "retentionctl", targets: ["retentionctl"]),
        .executable(name: "retentiond", targets: ["retentiond"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3" ..< "5.0.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-async-algorithms.git", from: "1.1.4"),
        .package(url: "https://github.com/swiftlang/swift-subprocess.git", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.8.1"),
    ],
    targets: [
        // The rules language: periods, calendar arithmetic, conditions, parsing and diagnostics. It
        // also reads stores files: they are the other half of what a rule author writes (which rules
        // bind to which dataset, with which fields), checked against the rules with the same
        // diagnostics, so the language is both files, not the rules file alone. Knows nothing of
        // the command line or systemd.
        .target(
            name: "RetentionRules",
            dependencies: [.product(name: "Yams", package: "Yams")]
        ),
        // Planning, conflict resolution, jobs, holds, audit and the state database. Talks to stores
        // only through the `StoreConnection` protocol.
        .target(
            name: "RetentionEngine",
            dependencies: [
                "RetentionRules",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The few Linux calls Swift's Glibc module does not export (statx, openat2, renameat2,
        // F_OFD_GETLK): files stores resolve every name beneath a directory descriptor with them.
        .target(name: "CFileSystem"),
        // The store connectors: SQLite (GRDB), PostgreSQL (postgres-nio), directories, commands
        // (swift-subprocess: an explicit environment, a process group, non-blocking pipes).
        .target(
            name: "RetentionStores",
            dependencies: [
                "CFileSystem",
                "RetentionRules",
                "RetentionEngine",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                // retentiond negotiates PostgreSQL's TLS itself (PostgresStartupGuard).
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // The state on PostgreSQL (`--state postgresql://…`), several daemons' shared state. Its own
        // target, so that the engine stays free of a network client: it reuses the stores'
        // PostgreSQL session start (RetentionStores: TLS, the cleartext guard, credentials and
        // redaction), and speaks postgres-nio.
        .target(
            name: "PostgresState",
            dependencies: [
                "RetentionRules",
                "RetentionEngine",
                "RetentionStores",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // libsystemd's C API (sd_notify, sd_watchdog_enabled, sd_journal_sendv), from Debian's
        // libsystemd-dev.
        .systemLibrary(
            name: "CSystemd",
            pkgConfig: "libsystemd",
            providers: [.apt(["libsystemd-dev"])]
        ),
        // A small Swift face on libsystemd: service notifications and a swift-log handler writing
        // structured entries to the journal. Knows nothing of retention.
        .target(
            name: "Systemd",
            dependencies: ["CSystemd", .product(name: "Logging", package: "swift-log")]
        ),
        // What both executables share on the command line: the typed values of their options (periods
        // in the rules language's syntax, counts, instants, log levels) and the console log handler.
        // Knows nothing of either.
        .target(
            name: "CommandLineOptions",
            dependencies: ["RetentionRules", .product(name: "Logging", package: "swift-log")]
        ),
        // The daemon: small services in a ServiceGroup (passes, reloads, the watchdog); what wakes
        // the passes (a reload, the next record falling due) is merged with swift-async-algorithms.
        .executableTarget(
            name: "retentiond",
            dependencies: [
                "RetentionRules",
                "RetentionEngine",
                "RetentionStores",
                "PostgresState",
                "Systemd",
                "CommandLineOptions",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "retentionctl",
            dependencies: [
                "RetentionRules",
                "RetentionEngine",
                "RetentionStores",
                "PostgresState",
                "CommandLineOptions",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // What the test targets share: temporary directories, the built executables, running a
        // program, psql against the test cluster. Not a product: only the tests see it.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(
            name: "RetentionRulesTests",
            dependencies: [
                "RetentionRules",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "RetentionEngineTests",
            dependencies: [
                "CFileSystem",
                "TestSupport",
                "RetentionRules",
                "RetentionEngine",
                "RetentionStores",
                "PostgresState",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "PropertyBased", package: "swift-property-based"),
                // The audit tests recompute hashes as an attacker would, with the documented algorithm.
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "RetentionCtlTests",
            dependencies: ["retentionctl", "TestSupport", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        // retentiond against the real parts (a notify socket, systemd-journald, a systemd user manager),
        // and its services in-process, woken by injected triggers.
        .testTarget(
            name: "RetentiondTests",
            dependencies: [
                "retentiond",
                "TestSupport",
                "Systemd",
                "RetentionEngine",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["Fixtures"]
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
