import Foundation
package import RetentionRules
import RetentionEngine
#if canImport(Glibc)
import Glibc
#endif

/// `retentionctl lint --live`: the stores files checked against the real stores.
///
/// What the files alone cannot tell: that the tables, keys and columns exist; that each column can
/// take what retentiond writes into it (a strategy, a restriction time, a null); that keys are
/// unique, as keyset paging needs; and that anchor columns are indexed, so that planning is a range
/// query rather than a scan (a warning, with the `CREATE INDEX` to run). Files and command stores:
/// the directory and the program exist. Nothing is written to any store.
package struct LiveCheck: Sendable {
    var connector: StoreConnectors

    package init(connector: StoreConnectors) {
        self.connector = connector
    }

    /// Every problem found, located at the line of the stores file that names the thing.
    package func check(_ stores: StoreSet, rules: RuleSet) async -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        for store in stores.stores {
            diagnostics += await check(store, rules: rules)
        }
        return diagnostics
    }

    func check(_ store: Store, rules: RuleSet) async -> [Diagnostic] {
        switch store.kind {
        case .sqlite, .postgres:
            let connection: any SchemaReading
            do {
                if store.kind == .sqlite {
                    connection = try SQLiteConnection(store: store, path: StoreConnectors.resolve(store.path ?? "", for: store), inspecting: true)
                } else {
                    connection = try await PostgresConnection.open(store: store, passwordFile: connector.postgresPasswordFile, inspecting: true)
                }
            } catch {
                return [.error("cannot open store '\(store.id)': \(Self.message(error))", at: store.location)]
            }
            var diagnostics: [Diagnostic] = []
            for dataset in store.datasets {
                do {
                    diagnostics += try await check(dataset, of: store, in: connection, rules: rules)
                } catch {
                    diagnostics.append(.error("cannot inspect dataset '\(dataset.id)': \(Self.message(error))", at: dataset.location))
                }
            }
            await connection.close()
            return diagnostics
        case .files:
            let root = StoreConnectors.resolve(store.path ?? "", for: store)
            do { _ = try FilesConnection(store: store, root: root) } catch {
                return [.error("store '\(store.id)': \(root) is not a directory", at: store.location)]
            }
            guard access(root, R_OK | W_OK | X_OK) == 0 else {
                return [.error("store '\(store.id)': \(root) is not readable and writable by this user, so files cannot be removed from it", at: store.location)]
            }
            // Without birth times a rule counting from them never makes a file due: say so now.
            let usesBirth = store.datasets.filter { $0.fields.values.contains("birthtime") }
            if !usesBirth.isEmpty, FilesConnection.birthTime(root) == nil {
                return usesBirth.map {
                    .warning("the file system under \(root) does not record birth times: no file of dataset '\($0.id)' will ever be due; count from mtime instead", at: $0.location)
                }
            }
            return []
        case .command:
            let program = StoreConnectors.resolve(store.exec ?? "", for: store)
            guard access(program, X_OK) == 0 else {
                return [.error("store '\(store.id)': \(program) is not an executable program", at: store.location)]
            }
            return []
        }
    }

    func check(_ dataset: Dataset, of store: Store, in connection: any SchemaReading, rules: RuleSet) async throws -> [Diagnostic] {
        guard let table = dataset.table else { return [] }
        guard let schema = try await connection.schema(table) else {
            let hint = Suggestion.hint(for: table, among: try await connection.tables())
            return [.error("table '\(table)' does not exist in store '\(store.id)'\(hint)", at: dataset.location(of: "table"))]
        }
        var diagnostics: [Diagnostic] = []
        func column(_ name: String, _ setting: String, as role: String) -> TableSchema.Column? {
            if let column = schema.column(name) { return column }
            let hint = Suggestion.hint(for: name, among: schema.columns.map(\.name))
            diagnostics.append(.error("\(role) column '\(name)' does not exist in table '\(table)'\(hint)", at: dataset.location(of: setting)))
            return nil
        }

        if let key = dataset.key, let column = column(key, "key", as: "key") {
            diagnostics += Self.keyProblems(key, column, schema, dataset)
        }

        if !dataset.anonymize.isEmpty, !schema.triggers.isEmpty {
            diagnostics.append(.warning("table '\(table)' has triggers (\(schema.triggers.joined(separator: ", "))) and its dataset is anonymized: "
                                        + "a trigger runs on every anonymizing UPDATE and can see or copy the values before they are replaced. "
                                        + "retentiond's functions may not be called from a trigger (the job fails instead); review what they do",
                                        at: dataset.location(of: "table")))
        }
        let anchorFields = Set(dataset.rules.compactMap { rules[$0]?.anchor?.fields }.joined())
        for (field, name) in dataset.fields.sorted(by: { $0.key < $1.key }) {
            let setting = "fields." + field
            guard let column = column(name, setting, as: "field '\(field)':") else { continue }
            guard anchorFields.contains(field) else { continue }
            switch column.valueClass {
            case .time, .integer, .real, .text, .untyped: break
            default:
                diagnostics.append(.error("anchor '\(field)' is column '\(name)' of type \(column.type): a period counts from a timestamp, a date, Unix seconds or ISO text",
                                          at: dataset.location(of: setting)))
            }
            if !schema.isIndexed(name) {
                diagnostics.append(.warning("anchor column '\(name)' of table '\(table)' has no index, so every plan scans the table; run: \(connection.createIndexStatement(table: table, column: name))",
                                            at: dataset.location(of: setting)))
            }
        }

        for (name, strategy) in dataset.anonymize.sorted(by: { $0.key < $1.key }) {
            let setting = "anonymize." + name
            guard let column = column(name, setting, as: "anonymized") else { continue }
            if let problem = Self.problem(strategy, column) {
                diagnostics.append(.error("'\(name): \(strategy)' cannot be applied: column '\(name)' is \(column.type)\(column.nullable ? "" : " NOT NULL"); \(problem)",
                                          at: dataset.location(of: setting)))
            }
        }

        for (setting, name) in [("restrict", dataset.restrictColumn), ("anonymized-at", dataset.anonymizedColumn)] {
            guard let name, let column = column(name, setting, as: "'\(setting)'") else { continue }
            diagnostics += Self.markerProblems(setting, name, column, store, dataset)
        }
        return diagnostics
    }

    /// What keeps `column` from serving as the dataset's key: its type, its uniqueness.
    static func keyProblems(_ key: String, _ column: TableSchema.Column, _ schema: TableSchema, _ dataset: Dataset) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        switch column.valueClass {
        case .integer, .text, .untyped: break
        default:
            diagnostics.append(.error("key column '\(key)' is \(column.type): retentiond pages through keys as integers or text; use an integer or text key column",
                                      at: dataset.location(of: "key")))
        }
        if !schema.isUnique(key) {
            diagnostics.append(.warning("key column '\(key)' is not unique (no PRIMARY KEY or UNIQUE index on it alone): batches page by key and holds name keys, so two records with one key are held and counted together",
                                        at: dataset.location(of: "key")))
        }
        return diagnostics
    }

    /// What keeps a `restrict` or `anonymized-at` column from taking the time retentiond writes there.
    static func markerProblems(_ setting: String, _ name: String, _ column: TableSchema.Column, _ store: Store, _ dataset: Dataset) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        if !column.nullable {
            diagnostics.append(.error("'\(setting)' column '\(name)' is NOT NULL, but retentiond reads null as \"not yet done\": make it nullable",
                                      at: dataset.location(of: setting)))
        }
        let fits = switch (store.kind, column.valueClass) {
        case (_, .time), (.sqlite, .text), (.sqlite, .integer), (.sqlite, .real), (.sqlite, .untyped): true
        default: false
        }
        if !fits {
            diagnostics.append(.error("'\(setting)' column '\(name)' is \(column.type): retentiond writes the time there; use a \(store.kind == .postgres ? "timestamptz" : "TEXT or INTEGER") column",
                                      at: dataset.location(of: setting)))
        }
        return diagnostics
    }

    /// Why `strategy` cannot write into `column`, or nil if it can.
    static func problem(_ strategy: AnonymizationStrategy, _ column: TableSchema.Column) -> String? {
        let type = column.valueClass
        switch strategy {
        case .null:
            return column.nullable ? nil : "null cannot be stored there; use {fixed: VALUE} or make the column nullable"
        case .fixed(let value):
            let fits = switch type {
            case .integer: Int64(value) != nil
            case .real: Double(value) != nil
            case .time: InstantText.parseCivil(value) != nil
            case .text(let maxLength): maxLength.map { value.count <= $0 } ?? true
            case .ipAddress: isIPAddress(value)
            case .boolean: ["true", "false", "t", "f", "1", "0", "yes", "no"].contains(value.lowercased())
            case .uuid: UUID(uuidString: value) != nil
            case .binary, .untyped, .other: true
            }
            return fits ? nil : "the fixed value '\(value)' is not a value of that type"
        case .hmacSHA256:
            switch type {
            case .untyped, .text(maxLength: nil): return nil
            case .text(let maxLength?) where maxLength >= 64: return nil
            default: return "hmac-sha256 writes 64 hexadecimal characters, which need a text column of 64 characters or more"
            }
        case .truncateIP:
            switch type {
            case .untyped, .text, .ipAddress: return nil
            default: return "truncate-ip works on IP addresses stored as text or inet"
            }
        case .month:
            switch type {
            case .untyped, .text, .time, .integer, .real: return nil
            default: return "month works on dates and timestamps (as such, as ISO text or as Unix seconds)"
            }
        }
    }

    static func isIPAddress(_ text: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        let address = text.split(separator: "/", maxSplits: 1).first.map(String.init) ?? text
        return inet_pton(AF_INET, address, &v4) == 1 || inet_pton(AF_INET6, address, &v6) == 1
    }

    static func message(_ error: any Error) -> String {
        (error as? StoreError)?.message ?? "\(error)"
    }
}
