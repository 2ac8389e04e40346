import RetentionRules
import Testing

@Suite("Stores files")
struct StoresTests {
    static let rules = RuleSet.merge([(file: "rules.yaml", text: """
        version: 1
        defaults:
          timezone: Europe/Brussels
        rules:
          contracts:
            retain: 10y
            from: contract_end
            then: delete
            basis: limitation period
          tracking-data:
            from: collected_at
            basis: analytics
            stages:
              - after: 7d
                then: anonymize
              - after: 90d
                then: delete
          accounts-never-used:
            retain: 30d
            from: created_at
            when: first_login_at is null
            then: delete
            basis: security
            kind: erasure
          device-logs:
            retain: 1y
            from: created_at
            then: delete
            basis: support
          objections:
            retain: 0d
            from: objected_at
            then: restrict
            basis: Art. 21 GDPR
          ga-cookie:
            retain: 2y
            from: cookie_set_at
            then: delete
            basis: analytics
            enforced-by: browser
        """)]).ruleSet

    @Test("a good stores file gives its stores and datasets, no diagnostics")
    func good() {
        let load = StoreSet.merge([(file: "stores.yaml", text: """
            version: 1
            stores:
              crm:
                kind: sqlite
                path: /var/lib/crm/crm.sqlite
                datasets:
                  contracts:
                    table: contracts
                    key: id
                    rules: [contracts]
                    fields: { contract_end: ended_at }
                  web_visits:
                    table: visits
                    key: id
                    rules: [tracking-data]
                    fields: { collected_at: ts }
                    anonymize: { ip: truncate-ip, email: hmac-sha256, name: "null", city: { fixed: unknown } }
                    anonymized-at: anonymized_at
                    max-delete-share: 10%
                    grace: 2d
                    batch-size: 500
                  accounts:
                    table: accounts
                    key: id
                    rules: [accounts-never-used, objections]
                    fields: { created_at: created, first_login_at: first_login, objected_at: objection_ts }
                    restrict: restricted
              shop:
                kind: postgres
                dsn: postgresql://retention@127.0.0.1/shop
                datasets:
                  orders: { table: public.orders, key: id, rules: [contracts], fields: { contract_end: closed_at } }
              kfs-logs:
                kind: files
                path: /var/log/kfs
                match: "*.log"
                rules: [device-logs]
                fields: { created_at: mtime }
                remove-empty-directories: true
              ga-export:
                kind: command
                exec: /usr/local/libexec/ga-purge
                timeout: 60
                datasets:
                  events: { rules: [tracking-data], fields: { collected_at: event_time } }
            """)], rules: Self.rules)
        #expect(load.diagnostics.isEmpty, "\(load.diagnostics.map(\.description))")
        #expect(load.storeSet.stores.map(\.id) == ["crm", "shop", "kfs-logs", "ga-export"])
        let visits = load.storeSet["crm"]?.datasets.first { $0.id == "web_visits" }
        #expect(visits?.anonymize == ["ip": .truncateIP, "email": .hmacSHA256, "name": .null, "city": .fixed("unknown")])
        #expect(visits?.anonymizedColumn == "anonymized_at")
        #expect(visits?.limits == DatasetLimits(batchSize: 500, maxDeleteShare: 0.1, grace: Period(2, .days)))
        #expect(load.storeSet["kfs-logs"]?.datasets.first?.fields == ["created_at": "mtime"])
        #expect(load.storeSet["kfs-logs"]?.datasets.first?.removeEmptyDirectories == true)
        #expect(load.storeSet["ga-export"]?.timeoutSeconds == 60)
    }

    static let broken = """
        version: 1
        stores:
          crm:
            kind: sqlite
            path: /var/lib/crm.sqlite
            datasets:
              contracts:
                table: contracts
                key: id
                rules: [contract]
                fields: { contract_end: ended_at }
              visits:
                table: visits
                key: id
                rules: [tracking-data]
                fields: { collected: ts }
              accounts:
                table: "accounts; drop table x"
                rules: [accounts-never-used, objections]
                fields: { created_at: created, objected_at: objected }
              masked:
                table: masked
                key: id
                rules: [tracking-data]
                fields: { collected_at: ts }
                anonymize: { ip: truncate-ipv4 }
          logs:
            kind: files
            path: /var/log/app
            rules: [tracking-data]
            fields: { collected_at: modified }
          shop:
            kind: postgres
            dsn: postgresql://retention:secret@127.0.0.1/shop
            datasets:
              cookies: { table: cookies, key: id, rules: [ga-cookie], fields: { cookie_set_at: set_at } }
          remote:
            kind: ftp
          extra:
            kind: sqlite
            path: /tmp/x.sqlite
            datasets:
              hashed:
                table: hashed
                key: id
                rules: [tracking-data]
                fields: { collected_at: ts }
                anonymize: { email: hmac-sha256 }
                max-delete-share: 125%
        """

    @Test("every problem of a broken stores file is located", arguments: [
        ("stores.yaml:7:7", "names rule 'contract', which no rules file defines; did you mean 'contracts'?"),
        ("stores.yaml:12:7", "rule 'tracking-data' counts from anchor 'collected_at', which 'fields:' does not map"),
        ("stores.yaml:12:7", "anonymizes, but the dataset has no 'anonymize:' strategies"),
        ("stores.yaml:18:16", "is not a plain SQL identifier"),
        ("stores.yaml:17:7", "needs 'key:'"),
        ("stores.yaml:26:26", "unknown anonymization strategy 'truncate-ipv4'"),
        ("stores.yaml:31:29", "expected one of mtime, ctime, birthtime; found 'modified'"),
        ("stores.yaml:34:32", "the dsn holds a password"),
        ("stores.yaml:38:11", "'kind' must be one of sqlite, postgres, files, command; found 'ftp'"),
        ("stores.yaml:48:9", "'email: hmac-sha256' leaves no sign that a record was anonymized: add 'anonymized-at: COLUMN'"),
        ("stores.yaml:49:27", "'max-delete-share' must be a percentage from 0% to 100%"),
    ])
    func located(place: String, message: String) {
        let load = StoreSet.merge([(file: "stores.yaml", text: Self.broken)], rules: Self.rules)
        let printed = load.diagnostics.map(\.description)
        #expect(printed.contains { $0.hasPrefix(place + ": ") && $0.contains(message) }, "\(printed.joined(separator: "\n"))")
    }

    @Test("anonymizing files is refused, and an unmapped condition field is named")
    func actionsAndConditions() {
        let load = StoreSet.merge([(file: "s.yaml", text: """
            stores:
              logs:
                kind: files
                path: /var/log/app
                rules: [tracking-data]
                fields: { collected_at: mtime }
              db:
                kind: sqlite
                path: /tmp/db.sqlite
                datasets:
                  accounts:
                    table: accounts
                    key: id
                    rules: [accounts-never-used, objections]
                    fields: { created_at: created, objected_at: objected }
            """)], rules: Self.rules)
        let printed = load.diagnostics.map(\.description)
        #expect(printed.contains { $0.hasPrefix("s.yaml:2:3: error:") && $0.contains("asks to anonymize, which a files store cannot do") })
        #expect(printed.contains { $0.hasPrefix("s.yaml:11:7: error:") && $0.contains("condition field 'first_login_at'") })
        #expect(printed.contains { $0.hasPrefix("s.yaml:11:7: error:") && $0.contains("names no 'restrict:' column") })
    }

    @Test("partitions: drop, detach or rows, on PostgreSQL tables only; a misspelling is located with a hint; the default is drop")
    func partitions() {
        let load = StoreSet.merge([(file: "p.yaml", text: """
            stores:
              pg:
                kind: postgres
                dsn: postgresql://retention@127.0.0.1/shop
                datasets:
                  archived: {table: a, key: id, rules: [contracts], fields: {contract_end: ended}, partitions: detach}
                  plain: {table: p, key: id, rules: [contracts], fields: {contract_end: ended}}
                  typo: {table: t, key: id, rules: [contracts], fields: {contract_end: ended}, partitions: dorp}
              db:
                kind: sqlite
                path: /tmp/db.sqlite
                datasets:
                  local: {table: l, key: id, rules: [contracts], fields: {contract_end: ended}, partitions: drop}
            """)], rules: Self.rules)
        let printed = load.diagnostics.map(\.description)
        #expect(printed.contains { $0.hasPrefix("p.yaml:8:96: error:") && $0.contains("'partitions' must be one of drop, detach, rows; found 'dorp'") && $0.contains("'drop'") },
                "\(printed.joined(separator: "\n"))")
        #expect(printed.contains { $0.hasPrefix("p.yaml:13:85: error:") && $0.contains("'partitions' applies to PostgreSQL tables only") },
                "\(printed.joined(separator: "\n"))")
        let datasets = load.storeSet.stores.first { $0.id == "pg" }?.datasets ?? []
        #expect(datasets.map(\.partitions) == [.detach, .drop])
    }

    @Test("a dataset bound to a rule enforced elsewhere gets a warning")
    func enforcedElsewhere() {
        let load = StoreSet.merge([(file: "s.yaml", text: """
            stores:
              shop:
                kind: postgres
                dsn: postgresql://retention@127.0.0.1/shop
                datasets:
                  cookies: { table: cookies, key: id, rules: [ga-cookie], fields: { cookie_set_at: set_at } }
            """)], rules: Self.rules)
        #expect(load.diagnostics.map(\.description) == [
            "s.yaml:6:7: warning: dataset 'cookies' of store 'shop' is bound to rule 'ga-cookie', which is enforced by browser, not retentiond: it will not be acted on",
        ])
    }

    @Test("identifiers are validated and quoted")
    func identifiers() {
        #expect(SQLIdentifier.isValid("public.orders"))
        #expect(SQLIdentifier.isValid("_t1"))
        #expect(!SQLIdentifier.isValid("1t"))
        #expect(!SQLIdentifier.isValid("a;b"))
        #expect(!SQLIdentifier.isValid("a.b.c"))
        #expect(SQLIdentifier.quoted("public.orders") == "\"public\".\"orders\"")
        #expect(SQLIdentifier.quoted("a\"b") == "\"a\"\"b\"")
        // The class of bug the fuzzer found in conditions: a quote with a combining mark after it.
        #expect(SQLIdentifier.quoted("a\"\u{301}b").unicodeScalars.elementsEqual("\"a\"\"\u{301}b\"".unicodeScalars))
    }
}
