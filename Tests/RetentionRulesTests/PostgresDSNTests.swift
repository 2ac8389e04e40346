import Foundation
import RetentionRules
import Testing

/// The PostgreSQL DSN as lint reads it: only URLs, never a password, only the TLS parameters, and
/// no message that repeats what might be a secret.
@Suite("PostgreSQL DSN")
struct PostgresDSNTests {
    static let secret = "hunter2-Zq9"

    /// The diagnostics of a stores file with one postgres store whose dsn is `dsn`, as printed.
    static func lint(_ dsn: String, extra: String = "") -> [String] {
        let rules = RuleSet.merge([(file: "rules.yaml", text: """
            version: 1
            rules:
              r: {retain: 1d, from: created_at, then: delete, basis: test}
            """)]).ruleSet
        let load = StoreSet.merge([(file: "stores.yaml", text: """
            stores:
              shop:
                kind: postgres
                dsn: \(dsn)
            \(extra)    datasets:
                  t: {table: t, key: id, rules: [r], fields: {created_at: ts}}
            """)], rules: rules)
        return load.diagnostics.map(\.description)
    }

    @Test("a password or a key/value string is a located error that does not repeat the secret", arguments: [
        ("host=db.example.org port=5432 dbname=shop user=app password=\(secret)", "stores.yaml:4:10: error: the dsn must be a URL"),
        ("host=db.example.org port=5432 dbname=shop user=app password=\(secret)", "stores.yaml:4:10: error: the dsn holds a password"),
        ("'dbname=shop password=\(secret)'", "error: the dsn must be a URL"),
        ("postgresql://app:\(secret)@db.example.org/shop", "stores.yaml:4:26: error: the dsn holds a password"),
        ("postgresql://app:@127.0.0.1/shop", "stores.yaml:4:26: error: the dsn holds a password"),
        ("postgresql://app:\(secret)/x@db.example.org/shop", "stores.yaml:4:26: error: the dsn holds a password"),
        ("postgresql://app@127.0.0.1/shop?password=\(secret)", "stores.yaml:4:42: error: the dsn holds a password (?password=)"),
        ("postgresql://app@127.0.0.1/shop?sslmode=require&PASSWORD=\(secret)", "error: the dsn holds a password (?password=)"),
        ("postgres://app@127.0.0.1/shop?\(secret)=1", "error: unknown connection parameter: retentiond reads only sslmode and sslrootcert"),
    ])
    func secrets(dsn: String, expected: String) {
        let printed = Self.lint(dsn)
        #expect(printed.contains { $0.contains(expected) }, "\(printed.joined(separator: "\n"))")
        #expect(!printed.joined().contains(Self.secret), "\(printed.joined(separator: "\n"))")
        #expect(throws: PostgresDSN.Invalid.self) { try PostgresDSN.parse(dsn.trimmingCharacters(in: ["'"])) }
    }

    @Test("sslmode and sslrootcert: known values only, each problem located", arguments: [
        ("postgresql://app@db.example.org/shop?sslmode=prefer", "stores.yaml:4:55: error: sslmode=prefer is not supported: it falls back to an unencrypted connection"),
        ("postgresql://app@db.example.org/shop?sslmode=allow", "error: sslmode=allow is not supported"),
        ("postgresql://app@db.example.org/shop?sslmode=verify_full", "error: unknown sslmode 'verify_full': expected one of disable, require, verify-ca, verify-full; did you mean 'verify-full'?"),
        ("postgresql://app@db.example.org/shop?sslmode=", "error: unknown sslmode"),
        ("postgresql://app@db.example.org/shop?sslmode=require&sslmode=disable", "error: 'sslmode' is given twice"),
        ("postgresql://app@db.example.org/shop?sslmode=require&sslrootcert=/etc/ca.pem", "error: sslrootcert is used only to verify the server"),
        ("postgresql://app@db.example.org/shop?sslrootcert=", "error: 'sslrootcert' needs a file"),
        ("postgresql://app@db.example.org/shop?connect_timeout=5", "error: unknown connection parameter 'connect_timeout'"),
        ("postgresql://app@db.example.org/shop?sslmod=require", "did you mean 'sslmode'?"),
        ("postgresql://app@db.example.org:99999/shop", "error: the port must be from 1 to 65535"),
        ("postgresql://app@db.example.org/shop#x", "error: the dsn has a '#' part"),
        ("mysql://app@db.example.org/shop", "error: the dsn must be a URL postgresql://"),
    ])
    func tlsParameters(dsn: String, expected: String) {
        let printed = Self.lint(dsn)
        #expect(printed.contains { $0.contains(expected) }, "\(printed.joined(separator: "\n"))")
    }

    @Test("a host that is not loopback without verify-full is a warning; loopback and verify-full are not", arguments: [
        ("postgresql://app@db.example.org/shop?sslmode=disable", "warning: sslmode=disable to db.example.org, which is not a loopback address"),
        ("postgresql://app@10.0.0.5/shop?sslmode=require", "warning: sslmode=require does not check the server's certificate"),
        ("postgresql://app@db.example.org/shop?sslmode=verify-ca&sslrootcert=/etc/ca.pem", "warning: sslmode=verify-ca does not check that the certificate was issued for db.example.org"),
        ("postgresql://app@db.example.org/shop", nil),
        ("postgresql://app@db.example.org/shop?sslmode=verify-full&sslrootcert=/etc/ca.pem", nil),
        ("postgresql://app@127.0.0.1/shop?sslmode=disable", nil),
        ("postgresql://app@localhost/shop", nil),
        ("postgresql://app@[::1]/shop?sslmode=require", nil),
    ] as [(String, String?)])
    func weakTLS(dsn: String, expected: String?) {
        let printed = Self.lint(dsn)
        if let expected {
            #expect(printed.contains { $0.hasPrefix("stores.yaml:4:10: ") && $0.contains(expected) }, "\(printed.joined(separator: "\n"))")
        } else {
            #expect(printed.isEmpty, "\(printed.joined(separator: "\n"))")
        }
    }

    @Test("defaults: no TLS to loopback, verify-full against the system's CAs elsewhere")
    func defaults() throws {
        let local = try PostgresDSN.parse("postgresql://127.0.0.1:5433/shop")
        #expect(local.user == "retentiond" && local.host == "127.0.0.1" && local.port == 5433 && local.database == "shop")
        #expect(local.sslMode == .disable && !local.sslModeGiven && local.isLoopback)
        let remote = try PostgresDSN.parse("postgres://app@db.example.org/shop")
        #expect(remote.sslMode == .verifyFull && remote.sslRootCert == nil && !remote.isLoopback)
        let pinned = try PostgresDSN.parse("postgresql://app@db.example.org/shop?sslmode=verify-full&sslrootcert=ca.pem")
        #expect(pinned.sslMode == .verifyFull && pinned.sslModeGiven && pinned.sslRootCert == "ca.pem")
        #expect(pinned.description == "postgresql://app@db.example.org:5432/shop?sslmode=verify-full")
        #expect(try PostgresDSN.parse("postgresql://app@[::1]:5432/shop").host == "::1")
        #expect(try PostgresDSN.parse("postgresql://app@127.0.0.1/").database == nil)
        #expect(!PostgresDSN.isLoopback("127.0.0.1.evil.example") && !PostgresDSN.isLoopback("localhost.example"))
    }

    @Test("allow-cleartext-password is a postgres store's true or false")
    func allowCleartext() {
        #expect(Self.lint("postgresql://app@127.0.0.1/shop", extra: "    allow-cleartext-password: true\n").isEmpty)
        let printed = Self.lint("postgresql://app@127.0.0.1/shop", extra: "    allow-cleartext-password: yes\n")
        #expect(printed.contains { $0.contains("error: 'allow-cleartext-password' must be true or false; found 'yes'") }, "\(printed)")
        let load = StoreSet.merge([(file: "s.yaml", text: """
            stores:
              db:
                kind: sqlite
                path: /tmp/db.sqlite
                allow-cleartext-password: true
            """)], rules: RuleSet.merge([]).ruleSet)
        #expect(load.diagnostics.map(\.description).contains { $0.hasPrefix("s.yaml:5:5: error: 'allow-cleartext-password' applies to postgres stores only") })
    }
}
