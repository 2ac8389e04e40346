import Foundation
@testable import RetentionEngine
import RetentionRules
import Testing

/// Daemons sharing a state compare rules digests; a daemon on another host (here: in a network
/// namespace) reaches the same PostgreSQL store by another address, and must not be refused for it.
/// Found by scripts/failover.py: the daemon cut off through a veth reached the server as 10.231.0.1,
/// the others as 127.0.0.1, and it refused every pass after the link came back ("rules differ").
@Suite("Rules digest")
struct RulesDigestTests {
    static func digest(dsn: String, table: String = "public.events", retain: String = "30d") throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("digest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let rules = directory.appendingPathComponent("rules.yaml"), stores = directory.appendingPathComponent("stores.yaml")
        try """
            version: 1
            rules:
              events:
                title: events
                retain: \(retain)
                from: event_at
                then: delete
                basis: a test
            """.write(to: rules, atomically: true, encoding: .utf8)
        try """
            version: 1
            stores:
              db:
                kind: postgres
                dsn: \(dsn)
                datasets:
                  events:
                    table: \(table)
                    key: id
                    rules: [events]
                    fields: { event_at: ts }
            """.write(to: stores, atomically: true, encoding: .utf8)
        let configuration = try RetentionConfiguration.load(rules: [rules.path], stores: [stores.path])
        return RulesDigest.of(configuration.rules, stores: configuration.stores)
    }

    @Test("the same database reached through another host name, address or port gives the same digest")
    func hostIndependent() throws {
        let here = try Self.digest(dsn: "postgresql://retentiond@127.0.0.1:5432/app")
        #expect(try Self.digest(dsn: "postgresql://retentiond@10.231.0.1:5433/app?sslmode=disable") == here)
        #expect(try Self.digest(dsn: "postgresql://other@db.internal/app?sslmode=verify-full") == here)
    }

    @Test("another database, table or period gives another digest")
    func stillDistinguishes() throws {
        let here = try Self.digest(dsn: "postgresql://retentiond@127.0.0.1:5432/app")
        #expect(try Self.digest(dsn: "postgresql://retentiond@127.0.0.1:5432/other") != here)
        #expect(try Self.digest(dsn: "postgresql://retentiond@127.0.0.1:5432/app", table: "public.other") != here)
        #expect(try Self.digest(dsn: "postgresql://retentiond@127.0.0.1:5432/app", retain: "31d") != here)
    }

    @Test("a PostgreSQL target loses its host and port only", arguments: [
        ("postgres:127.0.0.1/5432/app|public.events", "postgres:app|public.events"),
        ("postgres:db.internal//app|t", "postgres:app|t"),
        ("sqlite:/var/lib/app.sqlite|events", "sqlite:/var/lib/app.sqlite|events"),
        ("postgres:odd", "postgres:odd"),
    ])
    func serverless(target: String, expected: String) {
        #expect(RulesDigest.serverless(target) == expected)
    }
}
