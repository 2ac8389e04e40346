import Foundation
import GRDB
import Logging
import RetentionEngine
import RetentionRules
import RetentionStores
import Testing
import TestSupport

/// A real SQLite store and state database in a temporary directory, with rules and a stores file.
struct Fixture {
    let directory = TemporaryDirectory()
    var rulesText: String
    var storesText: String

    var databasePath: String { directory.path + "/store.sqlite" }
    var statePath: String { directory.path + "/state.sqlite" }

    init(rules: String, stores: String) {
        rulesText = rules
        storesText = stores
    }

    /// Creates the store database and runs `setup` on it.
    func database(_ setup: (Database) throws -> Void) throws -> DatabaseQueue {
        let queue = try DatabaseQueue(path: databasePath)
        try queue.write(setup)
        return queue
    }

    func engine(_ configure: (inout EngineOptions) -> Void = { _ in }) throws -> Engine {
        let rules = RuleSet.merge([(file: "rules.yaml", text: rulesText)])
        #expect(!rules.diagnostics.hasErrors, "\(rules.diagnostics.errors)")
        let stores = StoreSet.merge([(file: directory.path + "/stores.yaml", text: storesText)], rules: rules.ruleSet)
        #expect(!stores.diagnostics.hasErrors, "\(stores.diagnostics.errors)")
        var options = EngineOptions()
        options.hmacKey = HMACKey(bytes: Data("0123456789abcdef0123456789abcdef".utf8))
        configure(&options)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return Engine(rules: rules.ruleSet, stores: stores.storeSet, state: try StateDatabase(path: statePath, creation: .ifMissing),
                      connector: StoreConnectors(), options: options, logger: logger)
    }
}

/// An instant from SQLite-style UTC text.
func utc(_ text: String) -> Date { SQLiteTimeText.parse(text)! }

func keys(_ queue: DatabaseQueue, _ table: String = "records") throws -> Set<Int64> {
    try queue.read { db in Set(try Int64.fetchAll(db, sql: "SELECT id FROM \(table)")) }
}

extension Engine {
    /// The SQLite state database the fixture's engine keeps its state in, for what a test reads
    /// of it directly (synchronously).
    var database: StateDatabase {
        guard let database = state as? StateDatabase else { preconditionFailure("the fixture's engine keeps its state in SQLite") }
        return database
    }
}
