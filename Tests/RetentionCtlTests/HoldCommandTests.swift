import Foundation
import GRDB
import Testing
import TestSupport

/// `retentionctl hold add` refuses what would protect nothing (issue 12, item 2): a store or
/// dataset not in the stores files, a key not in the store, a key not in the key column's type.
@Suite("retentionctl hold")
struct HoldCommandTests {
    static let rules = """
        version: 1
        defaults: {timezone: UTC}
        rules:
          logs:
            retain: 30d
            from: created_at
            then: delete
            basis: test
        """

    @Test("hold add: typos refused with the stores file's line; a missing key only with --not-yet-stored; text 007 held, 7 deleted")
    func add() throws {
        let directory = NSTemporaryDirectory() + "retentionctl-hold-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try DatabaseQueue(path: directory + "/store.sqlite")
        try store.write { db in
            try db.execute(sql: """
                CREATE TABLE contacts (phone TEXT PRIMARY KEY, created_at TEXT);
                INSERT INTO contacts VALUES ('007', '2025-01-01 00:00:00'), ('7', '2025-01-01 00:00:00');
                CREATE TABLE records (id INTEGER PRIMARY KEY, created_at TEXT);
                INSERT INTO records VALUES (7, '2025-01-01 00:00:00'), (8, '2025-01-01 00:00:00');
                """)
        }
        try store.close()
        try Self.rules.write(toFile: directory + "/rules.yaml", atomically: true, encoding: .utf8)
        try """
            version: 1
            stores:
              crm:
                kind: sqlite
                path: store.sqlite
                datasets:
                  contacts: {table: contacts, key: phone, rules: [logs], fields: {created_at: created_at}}
                  records: {table: records, key: id, rules: [logs], fields: {created_at: created_at}}
            """.write(toFile: directory + "/stores.yaml", atomically: true, encoding: .utf8)
        let common = ["--rules", directory + "/rules.yaml", "--stores", directory + "/stores.yaml", "--state", directory + "/state.sqlite", "--init"]
        func hold(_ arguments: [String]) throws -> RetentionCtlTests.Run {
            try RetentionCtlTests.run(["hold", "add"] + common + arguments + ["--reason", "case 12"])
        }

        let store1 = try hold(["--store", "crn"])
        #expect(store1.status == 1)
        #expect(store1.stderr.contains("no store 'crn' in the stores files") && store1.stderr.contains("did you mean 'crm' (\(directory)/stores.yaml:3:3)?"),
                "\(store1.stderr)")
        let dataset = try hold(["--store", "crm", "--dataset", "contact", "--key", "007"])
        #expect(dataset.status == 1)
        #expect(dataset.stderr.contains("\(directory)/stores.yaml:3:3: store 'crm' has no dataset 'contact'; did you mean 'contacts'"), "\(dataset.stderr)")
        let missing = try hold(["--store", "crm", "--dataset", "contacts", "--key", "./abc"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no record with key \"./abc\" (text key) in crm/contacts"), "\(missing.stderr)")
        let loose = try hold(["--store", "crm", "--dataset", "records", "--key", "007"])
        #expect(loose.status == 1)
        #expect(loose.stderr.contains("the key column holds integers"), "\(loose.stderr)")
        let later = try hold(["--store", "crm", "--dataset", "contacts", "--key", "0045", "--not-yet-stored"])
        #expect(later.status == 0, "\(later.stderr)")
        let placed = try hold(["--store", "crm", "--dataset", "contacts", "--key", "007"])
        #expect(placed.status == 0, "\(placed.stderr)")
        #expect(placed.stdout.contains("on record crm/contacts key \"007\""), "\(placed.stdout)")
        #expect(try hold(["--store", "crm", "--dataset", "records", "--key", "7"]).status == 0)

        let list = try RetentionCtlTests.run(["hold", "list", "--state", directory + "/state.sqlite"])
        #expect(list.stdout.contains("record crm/contacts key \"007\"") && list.stdout.contains("record crm/records key 7"), "\(list.stdout)")
        let json = try RetentionCtlTests.run(["hold", "list", "--state", directory + "/state.sqlite", "--format", "json"])
        #expect(json.stdout.contains("\"key\" : \"007\"") && json.stdout.contains("\"key\" : 7,") && json.stdout.contains("\"key_type\" : \"text\""),
                "\(json.stdout)")

        let run = try RetentionCtlTests.run(["run"] + common + ["--max-delete-share", "100", "-q"])
        #expect(run.status == 0, "\(run.stderr)")
        let left = try DatabaseQueue(path: directory + "/store.sqlite")
        #expect(try left.read { db in try String.fetchAll(db, sql: "SELECT phone FROM contacts") } == ["007"])
        #expect(try left.read { db in try Int.fetchAll(db, sql: "SELECT id FROM records") } == [7])
    }

    @Test("hold add on a files store: ./ normalised, a directory accepted, an absolute path or .. refused with exit 1")
    func files() throws {
        let directory = NSTemporaryDirectory() + "retentionctl-hold-" + UUID().uuidString
        let root = directory + "/logs"
        try FileManager.default.createDirectory(atPath: root + "/case", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let old = Date().addingTimeInterval(-100 * 86_400)
        for file in ["case/a.log", "b.log", "007"] {
            #expect(FileManager.default.createFile(atPath: root + "/" + file, contents: Data("x".utf8), attributes: [.modificationDate: old]))
        }
        try Self.rules.write(toFile: directory + "/rules.yaml", atomically: true, encoding: .utf8)
        try """
            version: 1
            stores:
              logs:
                kind: files
                path: logs
                rules: [logs]
                fields: {created_at: mtime}
            """.write(toFile: directory + "/stores.yaml", atomically: true, encoding: .utf8)
        let common = ["--rules", directory + "/rules.yaml", "--stores", directory + "/stores.yaml", "--state", directory + "/state.sqlite", "--init"]
        func hold(_ key: String) throws -> RetentionCtlTests.Run {
            try RetentionCtlTests.run(["hold", "add"] + common + ["--store", "logs", "--dataset", "logs", "--key", key, "--reason", "case 12"])
        }
        for key in [root + "/b.log", "../logs/b.log", "case//a.log"] {
            let refused = try hold(key)
            #expect(refused.status == 1, "\(key): \(refused.stdout)")
        }
        let dotted = try hold("./007")
        #expect(dotted.status == 0 && dotted.stdout.contains("key \"007\""), "\(dotted.stdout)\(dotted.stderr)")
        let folder = try hold("case/")
        #expect(folder.status == 0 && folder.stdout.contains("is a directory"), "\(folder.stdout)\(folder.stderr)")
        let run = try RetentionCtlTests.run(["run"] + common + ["--max-delete-share", "100", "-q"])
        #expect(run.status == 0, "\(run.stderr)")
        let fm = FileManager.default
        #expect(fm.fileExists(atPath: root + "/case/a.log") && fm.fileExists(atPath: root + "/007") && !fm.fileExists(atPath: root + "/b.log"))
    }
}
