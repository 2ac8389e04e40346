import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import RetentionEngine
import RetentionRules
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Opening the session: TCP, TLS as `sslmode` says, authentication with the cleartext guard.
extension PostgresConnection {
    /// How long the TCP connect, the TLS negotiation and the authentication may each take.
    static let connectTimeout = TimeAmount.seconds(10)

    /// When the kernel gives the server up for gone, so that a query on a network that died
    /// silently (a cable, a partition: no RST ever comes) fails within seconds instead of after
    /// TCP's 15 minutes of retransmissions: keepalive probes after 3 s idle, every second, 3
    /// unanswered; data unacknowledged for 5 s (TCP_USER_TIMEOUT, milliseconds; the kernel
    /// acknowledges however busy the server is). Well below the shortest lease of a shared state
    /// (`--lease-duration`), so that a daemon cut off says so before its claims run out, and
    /// reconnects.
    static let deadPeer: (idle: SocketOptionValue, interval: SocketOptionValue, probes: SocketOptionValue, unacknowledged: SocketOptionValue)
        = (3, 1, 3, 5_000)

    /// Connects and authenticates as `dsn` says. Errors are `StoreError`s naming the DSN without
    /// secrets, and never holding `password`, whatever the libraries put in theirs.
    static func connect(_ dsn: PostgresDSN, store: Store, password: String?, logger: Logger) async throws -> PostgresNIO.PostgresConnection {
        func failure(_ reason: String) -> StoreError {
            StoreError(store: store.id, message: redacted("cannot connect to \(dsn): \(reason)", password: password))
        }
        let tls = try tlsContext(dsn, store: store).map { (context: $0, serverHostname: serverName(dsn.host)) }

        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(connectTimeout)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelOption(.socketOption(.so_keepalive), value: 1)
                .channelOption(.tcpOption(.init(rawValue: CInt(TCP_KEEPIDLE))), value: deadPeer.idle)
                .channelOption(.tcpOption(.init(rawValue: CInt(TCP_KEEPINTVL))), value: deadPeer.interval)
                .channelOption(.tcpOption(.init(rawValue: CInt(TCP_KEEPCNT))), value: deadPeer.probes)
                .channelOption(.tcpOption(.init(rawValue: CInt(TCP_USER_TIMEOUT))), value: deadPeer.unacknowledged)
                .connect(host: dsn.host, port: dsn.port).get()
        } catch {
            throw failure("\(error)")
        }

        let outcome = PostgresStartupGuard.Outcome()
        let ready = channel.eventLoop.makePromise(of: Void.self)
        do {
            try await channel.eventLoop.submit {
                try channel.pipeline.syncOperations.addHandler(PostgresStartupGuard(
                    tls: tls, allowCleartextPassword: store.allowCleartextPassword, ready: ready, outcome: outcome, limit: connectTimeout))
            }.get()
            try await ready.futureResult.get()
        } catch {
            // A channel closed before the guard was added never completes `ready` (a debug build
            // then stops on the leaked promise); completing it again is a no-op.
            ready.fail(error)
            try? await channel.close()
            throw failure(describe(error, dsn: dsn))
        }

        var configuration = PostgresNIO.PostgresConnection.Configuration(
            establishedChannel: channel, tls: .disable, username: dsn.user, password: password, database: dsn.database)
        configuration.options.connectTimeout = connectTimeout
        do {
            return try await PostgresNIO.PostgresConnection.connect(on: channel.eventLoop, configuration: configuration, id: 1, logger: logger).get()
        } catch {
            try? await channel.close()
            // The guard's reason first: postgres-nio reports a refused cleartext request as a
            // closed connection.
            if let refusal = outcome.refusal.withLock({ $0 }) { throw failure(describe(refusal, dsn: dsn)) }
            throw failure(describe(error, dsn: dsn))
        }
    }

    /// The TLS context `sslmode` asks for, or nil for `disable`.
    static func tlsContext(_ dsn: PostgresDSN, store: Store) throws -> NIOSSLContext? {
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch dsn.sslMode {
        case .disable: return nil
        case .require: configuration.certificateVerification = .none
        case .verifyCA: configuration.certificateVerification = .noHostnameVerification
        case .verifyFull: configuration.certificateVerification = .fullVerification
        }
        if dsn.sslMode.verifiesCertificate, let file = dsn.sslRootCert, file != "system" {
            let path = StoreConnectors.resolve(file, for: store)
            // Read here, so that a missing file is named as such rather than as a TLS failure.
            let certificates: [NIOSSLCertificate]
            do {
                certificates = try NIOSSLCertificate.fromPEMFile(path)
            } catch {
                throw StoreError(store: store.id, message: "cannot read the CA certificates of sslrootcert \(path) (expected PEM): \(error)")
            }
            guard !certificates.isEmpty else {
                throw StoreError(store: store.id, message: "sslrootcert \(path) holds no PEM certificate")
            }
            configuration.trustRoots = .certificates(certificates)
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw StoreError(store: store.id, message: "cannot set up TLS for \(dsn): \(error)")
        }
    }

    /// The name sent in SNI and checked against the certificate's DNS names: none for an IP
    /// address, whose certificate must name that address (NIOSSL compares it with the peer's).
    static func serverName(_ host: String) -> String? {
        var v4 = in_addr(), v6 = in6_addr()
        if inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1 { return nil }
        return host
    }

    /// An error of the connection's start in words: what was expected, what happened.
    static func describe(_ error: any Error, dsn: PostgresDSN) -> String {
        if let refusal = error as? PostgresStartupGuard.Refusal {
            switch refusal {
            case .tlsNotOffered:
                return "the server does not offer TLS, and sslmode=\(dsn.sslMode.rawValue)\(dsn.sslModeGiven ? "" : " (the default for a host that is not loopback)") requires it; "
                    + "turn on ssl in the server, or say sslmode=disable in the dsn if the network to it is trusted"
            case .unexpectedTLSAnswer:
                return "the server's answer to the TLS request is neither 'S' nor 'N' alone (not PostgreSQL, or someone in between injecting data)"
            case .handshake(let reason):
                let expected = switch dsn.sslMode {
                case .verifyFull: "a certificate issued for \(dsn.host) by a CA in \(dsn.sslRootCert.map { $0 == "system" ? "the system's trust store" : "sslrootcert \($0)" } ?? "the system's trust store")"
                case .verifyCA: "a certificate signed by a CA in \(dsn.sslRootCert.map { "sslrootcert \($0)" } ?? "the system's trust store")"
                case .require, .disable: "a TLS handshake"
                }
                return "the TLS handshake failed (sslmode=\(dsn.sslMode.rawValue) expects \(expected)): \(reason)"
            case .closedDuringNegotiation:
                return "the server closed the connection during the TLS negotiation"
            case .timedOut:
                return "no TLS negotiation within \(connectTimeout.nanoseconds / 1_000_000_000) s"
            case .cleartextPassword:
                return "the server asked for the password in cleartext (pg_hba.conf method 'password'), and retentiond does not send it so; "
                    + "use scram-sha-256 on the server, or set 'allow-cleartext-password: true' on the store (then only with sslmode=verify-full)"
            case .malformedMessage:
                return "the server sent a message during authentication whose length is impossible"
            }
        }
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] {
                return message + (error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? "")
            }
            switch error.code {
            case .authMechanismRequiresPassword:
                return "the server asks for a password and none was given (--postgres-password-file or the credential '\(credentialName)')"
            case .unsupportedAuthMechanism:
                return "the server asks for an authentication method retentiond cannot use (it speaks scram-sha-256, md5 and, if allowed, password)"
            case .connectionError, .serverClosedConnection:
                return "the connection was closed during authentication" + (error.underlying.map { ": \($0)" } ?? "")
            default:
                return "\(error.code)" + (error.underlying.map { ": \($0)" } ?? "")
            }
        }
        return "\(error)"
    }

    /// `message` with every occurrence of the password masked: a library error, a server
    /// message or a URL the operator mistyped may hold it, and messages reach the journal.
    static func redacted(_ message: String, password: String?) -> String {
        guard let password, !password.isEmpty else { return message }
        return message.replacingOccurrences(of: password, with: "***")
    }
}
