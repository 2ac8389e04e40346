import Foundation
import RetentionEngine
@testable import RetentionRules
@testable import RetentionStores
import Testing

/// PostgreSQL connections and their secrets against the real server of scripts/with-postgres
/// (TLS with a throwaway CA, a role asked for a cleartext password) and against a hostile fake
/// server that asks for the password in cleartext or tampers with the TLS negotiation.
@Suite("PostgreSQL TLS and secrets", .serialized)
struct PostgresTLSTests {
    struct Server {
        var dsn: String
        var cleartextDSN: String
        var passwordFile: String
        var password: String
        var ca: String
        var otherCA: String
        var port: Int
    }

    /// The test server, or nil (with a failure under RETENTIOND_REQUIRE_POSTGRES=1) without one.
    static func server() throws -> Server? {
        let environment = ProcessInfo.processInfo.environment
        guard let dsn = environment["RETENTIOND_TEST_POSTGRES_DSN"], let passwordFile = environment["RETENTIOND_TEST_POSTGRES_PASSWORD_FILE"],
              let cleartext = environment["RETENTIOND_TEST_POSTGRES_CLEARTEXT_DSN"],
              let ca = environment["RETENTIOND_TEST_POSTGRES_CA"], let otherCA = environment["RETENTIOND_TEST_POSTGRES_OTHER_CA"] else {
            #expect(environment["RETENTIOND_REQUIRE_POSTGRES"] != "1",
                    "PostgreSQL with TLS required but scripts/with-postgres did not provide one (is openssl installed?)")
            return nil
        }
        let password = try String(contentsOfFile: passwordFile, encoding: .utf8)
        let port = URLComponents(string: dsn)?.port ?? 5432
        return Server(dsn: dsn, cleartextDSN: cleartext, passwordFile: passwordFile, password: password, ca: ca, otherCA: otherCA, port: port)
    }

    /// One postgres store named `db`, read from a stores file as lint and the daemon read it.
    static func store(_ dsn: String, extra: String = "") throws -> Store {
        let (stores, diagnostics) = StoresParser.parse("""
            stores:
              db:
                kind: postgres
                dsn: '\(dsn)'
            \(extra)
            """, file: "/tmp/stores.yaml")
        #expect(diagnostics.errors.isEmpty, "\(diagnostics)")
        return try #require(stores.first)
    }

    /// `SELECT ssl FROM pg_stat_ssl` for this very connection: whether it runs over TLS.
    static func usesTLS(_ store: Store, passwordFile: String) async throws -> Bool {
        let connection = try await PostgresConnection.open(store: store, passwordFile: passwordFile)
        let rows: [[String?]]
        do {
            rows = try await connection.query("SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()", [])
        } catch {
            await connection.close()
            throw error
        }
        await connection.close()
        return rows.first?.first == "true"
    }

    /// The message of the error connecting to `store` throws, or a failure if it connects.
    static func failure(_ connector: StoreConnectors, _ store: @autoclosure () throws -> Store) async -> String {
        do {
            let connection = try await connector.connect(to: store())
            await connection.close()
        } catch {
            return "\(error)"
        }
        Issue.record("expected an error")
        return ""
    }

    @Test("sslmode=require and verify-full connect over TLS; disable and the loopback default do not")
    func tlsModes() async throws {
        guard let server = try Self.server() else { return }
        let local = server.dsn.replacingOccurrences(of: "@127.0.0.1:", with: "@localhost:")
        #expect(try await Self.usesTLS(Self.store(server.dsn + "?sslmode=require"), passwordFile: server.passwordFile))
        #expect(try await Self.usesTLS(Self.store(local + "?sslmode=verify-full&sslrootcert=\(server.ca)"), passwordFile: server.passwordFile))
        #expect(try await Self.usesTLS(Self.store(local + "?sslmode=verify-ca&sslrootcert=\(server.ca)"), passwordFile: server.passwordFile))
        #expect(try await !Self.usesTLS(Self.store(server.dsn + "?sslmode=disable"), passwordFile: server.passwordFile))
        #expect(try await !Self.usesTLS(Self.store(server.dsn), passwordFile: server.passwordFile))
    }

    @Test("verify-full refuses a certificate of another CA, and one not issued for the host connected to")
    func verification() async throws {
        guard let server = try Self.server() else { return }
        let local = server.dsn.replacingOccurrences(of: "@127.0.0.1:", with: "@localhost:")
        let connector = StoreConnectors(postgresPasswordFile: server.passwordFile)

        let otherCA = try Self.store(local + "?sslmode=verify-full&sslrootcert=\(server.otherCA)")
        let wrongCA = await Self.failure(connector, otherCA)
        #expect(wrongCA.hasPrefix("store 'db': cannot connect to postgresql://retentiond@localhost:\(server.port)/retentiond_test?sslmode=verify-full: the TLS handshake failed"), "\(wrongCA)")
        #expect(wrongCA.contains("expects a certificate issued for localhost by a CA in sslrootcert \(server.otherCA)"), "\(wrongCA)")
        #expect(wrongCA.contains("CERTIFICATE_VERIFY_FAILED") || wrongCA.contains("certificate verify failed"), "\(wrongCA)")

        // The certificate names localhost only: 127.0.0.1 is another host, though the same server.
        let byAddress = try Self.store(server.dsn + "?sslmode=verify-full&sslrootcert=\(server.ca)")
        let wrongHost = await Self.failure(connector, byAddress)
        #expect(wrongHost.contains("the TLS handshake failed (sslmode=verify-full expects a certificate issued for 127.0.0.1"), "\(wrongHost)")
        #expect(wrongHost.hasSuffix("the certificate names neither that host name nor that address"), "\(wrongHost)")
        // verify-ca does not check the name: the same certificate passes.
        #expect(try await Self.usesTLS(Self.store(server.dsn + "?sslmode=verify-ca&sslrootcert=\(server.ca)"), passwordFile: server.passwordFile))

        let missing = try Self.store(local + "?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem")
        let unreadable = await Self.failure(connector, missing)
        #expect(unreadable.hasPrefix("store 'db': cannot read the CA certificates of sslrootcert /nonexistent/ca.pem"), "\(unreadable)")
        for text in [wrongCA, wrongHost, unreadable] { #expect(!text.contains(server.password)) }
    }

    @Test("a server asking for the password in cleartext is refused unless the store allows it")
    func cleartextServer() async throws {
        guard let server = try Self.server() else { return }
        let connector = StoreConnectors(postgresPasswordFile: server.passwordFile)
        let refused = await Self.failure(connector, try Self.store(server.cleartextDSN))
        #expect(refused.contains("the server asked for the password in cleartext (pg_hba.conf method 'password'), and retentiond does not send it so"), "\(refused)")
        #expect(!refused.contains(server.password))

        let allowed = try Self.store(server.cleartextDSN, extra: "    allow-cleartext-password: true")
        let connection = try await PostgresConnection.open(store: allowed, passwordFile: server.passwordFile)
        #expect(try await connection.query("SELECT current_user::text", []).first?.first == "retentiond_cleartext")
        await connection.close()
    }

    @Test("a hostile server asking for the cleartext password receives nothing; with allow-cleartext-password it does")
    func hostileCleartext() async throws {
        let directory = try FakeServer.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let secret = "Sw0rdfish-\(UUID().uuidString.prefix(8))"
        try secret.write(toFile: directory + "/password", atomically: true, encoding: .utf8)
        let connector = StoreConnectors(postgresPasswordFile: directory + "/password")

        let refusing = try FakeServer(mode: "cleartext")
        let refused = await Self.failure(connector, try Self.store("postgresql://app@127.0.0.1:\(refusing.port)/shop"))
        let heard = try refusing.finish()
        #expect(!heard.contains(secret), "the password went to the server: \(heard)")
        #expect(refused.contains("asked for the password in cleartext"), "\(refused)")
        #expect(!refused.contains(secret))

        // The attack as it worked before: the fake server does receive the password when allowed.
        let allowing = try FakeServer(mode: "cleartext")
        _ = await Self.failure(connector, try Self.store("postgresql://app@127.0.0.1:\(allowing.port)/shop", extra: "    allow-cleartext-password: true"))
        #expect(try allowing.finish().contains(secret))
    }

    @Test("TLS required: a server without TLS, or one injecting bytes after its 'S', is refused before anything is sent", arguments: [
        ("no-tls", "the server does not offer TLS, and sslmode=require requires it"),
        ("tls-inject", "the server's answer to the TLS request is neither 'S' nor 'N' alone"),
    ])
    func hostileNegotiation(mode: String, expected: String) async throws {
        let directory = try FakeServer.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "Sw0rdfish".write(toFile: directory + "/password", atomically: true, encoding: .utf8)
        let fake = try FakeServer(mode: mode)
        let connector = StoreConnectors(postgresPasswordFile: directory + "/password")
        let text = await Self.failure(connector, try Self.store("postgresql://app@127.0.0.1:\(fake.port)/shop?sslmode=require"))
        #expect(text.contains(expected), "\(text)")
        // After the SSLRequest, nothing: no startup message, no password.
        #expect(try fake.finish() == "", "the client went on talking")
    }

    @Test("a DSN with a secret is never repeated in a connection error", arguments: [
        "host=127.0.0.1 dbname=shop password=Sw0rdfish-kv",
        "postgresql://app:Sw0rdfish-kv@127.0.0.1:1/shop",
        "postgresql://app@127.0.0.1:1/shop?password=Sw0rdfish-kv",
    ])
    func secretInDSN(dsn: String) async throws {
        let store = Store(id: "db", kind: .postgres, path: nil, dsn: dsn, exec: nil, timeoutSeconds: nil, datasets: [],
                          location: SourceLocation(file: "stores.yaml", line: 1, column: 1))
        let text = await Self.failure(StoreConnectors(), store)
        #expect(text.hasPrefix("store 'db': unusable dsn: "), "\(text)")
        #expect(!text.contains("Sw0rdfish"), "\(text)")
    }

    @Test("a password that a server or library repeats is masked in the message")
    func redaction() {
        #expect(PostgresConnection.redacted("FATAL: no such role 'app:Sw0rdfish'", password: "Sw0rdfish") == "FATAL: no such role 'app:***'")
        #expect(PostgresConnection.redacted("unchanged", password: nil) == "unchanged")
        #expect(PostgresConnection.redacted("unchanged", password: "") == "unchanged")
    }
}

/// A hostile "PostgreSQL server" on 127.0.0.1: one connection, answered by `mode`, everything the
/// client sends after the server's answer recorded (hex) until the client closes. It waits 15 s
/// at most for the client, 5 s at most for each read.
struct FakeServer {
    let process: Process
    let output: Pipe
    let port: Int

    static let script = #"""
        import socket, struct, sys
        mode = sys.argv[1]
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        print(listener.getsockname()[1], flush=True)
        # A client that never comes (a store that could not even be read) must not hang the test.
        listener.settimeout(15)
        try:
            client, _ = listener.accept()
        except socket.timeout:
            sys.exit(0)
        client.settimeout(5)
        def exactly(n):
            data = b""
            while len(data) < n:
                chunk = client.recv(n - len(data))
                if not chunk:
                    raise EOFError
                data += chunk
            return data
        def message():
            length = struct.unpack("!i", exactly(4))[0]
            return exactly(length - 4)
        first = message()
        if mode == "cleartext":
            client.sendall(b"R" + struct.pack("!ii", 8, 3))
        elif mode == "no-tls":
            client.sendall(b"N")
        elif mode == "tls-inject":
            client.sendall(b"S" + b"R" + struct.pack("!ii", 8, 3))
        heard = b""
        try:
            while True:
                chunk = client.recv(65536)
                if not chunk:
                    break
                heard += chunk
        except (socket.timeout, ConnectionResetError):
            pass
        sys.stdout.write(heard.hex())
        """#

    static func directory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pg-tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    init(mode: String) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.script, mode]
        output = Pipe()
        process.standardOutput = output
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        #expect(port > 0, "the fake server did not start")
    }

    /// What the client sent after the server's answer, as text (a password shows as itself).
    func finish() throws -> String {
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let hex = String(decoding: data, as: UTF8.self)
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex), next > index {
            bytes.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
