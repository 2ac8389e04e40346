import NIOCore
import NIOSSL
import NIOTLS
import Synchronization

/// Stands between the socket and postgres-nio while a PostgreSQL connection starts: negotiates
/// TLS itself, and refuses a server that asks for the password in cleartext.
///
/// postgres-nio answers `AuthenticationCleartextPassword` by sending the password, with no
/// option to refuse (1.33.2, `AuthenticationStateMachine`); and when it negotiates TLS itself it
/// puts the TLS handler where nothing can be placed between it and its own decoder. So
/// retentiond opens the channel, asks for TLS (`SSLRequest`), adds the TLS handler, and only
/// then hands the channel to postgres-nio with this guard after the TLS handler, reading the
/// decrypted server messages until `AuthenticationOk`. A cleartext request is never passed on:
/// the connection is closed before postgres-nio could answer it.
final class PostgresStartupGuard: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Why a connection was given up before postgres-nio had it, or refused during authentication.
    enum Refusal: Error, Sendable, Equatable {
        /// The server answered the TLS request with 'N'.
        case tlsNotOffered
        /// The server answered the TLS request with something else than one 'S' or 'N' byte:
        /// bytes after the 'S' would be read as if they had come through TLS (CVE-2021-23222).
        case unexpectedTLSAnswer
        /// The TLS handshake failed (the certificate, its host name, the protocol).
        case handshake(String)
        /// The server closed the connection before the TLS handshake ended.
        case closedDuringNegotiation
        /// No answer to the TLS request, or no end of the handshake, in time.
        case timedOut
        /// `AuthenticationCleartextPassword` without `allow-cleartext-password`.
        case cleartextPassword
        /// A message during authentication whose length cannot be right.
        case malformedMessage
    }

    /// What the guard saw, for the error message once postgres-nio has reported its own error.
    final class Outcome: Sendable {
        let refusal = Mutex<Refusal?>(nil)
    }

    private enum State {
        case awaitingTLSAnswer(NIOSSLContext, serverHostname: String?)
        case handshaking
        case authenticating
        case done
    }

    private var state: State
    private let allowCleartextPassword: Bool
    private let ready: EventLoopPromise<Void>
    private let outcome: Outcome
    private let limit: TimeAmount
    private var deadline: Scheduled<Void>?
    /// Server bytes not yet read as whole messages (authentication messages are small; a
    /// length beyond `maximumMessage` is refused, not buffered).
    private var pending = ByteBuffer()
    static let maximumMessage = 1 << 16

    /// `tls`: the context and SNI name to negotiate TLS with, or nil for none. `ready` succeeds
    /// once the channel may be handed to postgres-nio (TLS established, or none wanted).
    init(tls: (context: NIOSSLContext, serverHostname: String?)?, allowCleartextPassword: Bool,
         ready: EventLoopPromise<Void>, outcome: Outcome, limit: TimeAmount) {
        state = tls.map { .awaitingTLSAnswer($0.context, serverHostname: $0.serverHostname) } ?? .authenticating
        self.allowCleartextPassword = allowCleartextPassword
        self.ready = ready
        self.outcome = outcome
        self.limit = limit
    }

    func handlerAdded(context: ChannelHandlerContext) {
        guard case .awaitingTLSAnswer = state else {
            ready.succeed()
            return
        }
        let loop = context.eventLoop.assumeIsolated()
        deadline = loop.scheduleTask(in: limit) { [self] in
            self.giveUp(.timedOut, context: context)
        }
        // SSLRequest: length 8, then the code 1234 5679.
        var request = context.channel.allocator.buffer(capacity: 8)
        request.writeInteger(Int32(8))
        request.writeInteger(Int32(80_877_103))
        context.writeAndFlush(wrapOutboundOut(request), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        switch state {
        case .awaitingTLSAnswer(let tls, let serverHostname):
            guard buffer.readableBytes == 1, let answer = buffer.readInteger(as: UInt8.self) else {
                return giveUp(.unexpectedTLSAnswer, context: context)
            }
            guard answer == UInt8(ascii: "S") else {
                return giveUp(answer == UInt8(ascii: "N") ? .tlsNotOffered : .unexpectedTLSAnswer, context: context)
            }
            do {
                let handler = try NIOSSLClientHandler(context: tls, serverHostname: serverHostname)
                try context.pipeline.syncOperations.addHandler(handler, position: .first)
                state = .handshaking
            } catch {
                giveUp(.handshake("\(error)"), context: context)
            }
        case .handshaking:
            // TLS delivers no data before its handshake completes.
            giveUp(.unexpectedTLSAnswer, context: context)
        case .authenticating:
            var copy = buffer
            pending.writeBuffer(&copy)
            switch readMessages() {
            case .refuse(let refusal):
                outcome.refusal.withLock { $0 = refusal }
                context.fireErrorCaught(refusal)
                context.close(promise: nil)
            case .more:
                context.fireChannelRead(data)
            case .authenticated:
                state = .done
                context.fireChannelRead(data)
                context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            }
        case .done:
            context.fireChannelRead(data)
        }
    }

    private enum Reading { case more, authenticated, refuse(Refusal) }

    /// Reads the whole messages in `pending`: 'R' with 0 is AuthenticationOk, 'R' with 3 is
    /// AuthenticationCleartextPassword. Everything else passes (SASL, MD5, errors, notices).
    private func readMessages() -> Reading {
        while pending.readableBytes >= 5 {
            let start = pending.readerIndex
            guard let type = pending.getInteger(at: start, as: UInt8.self),
                  let length = pending.getInteger(at: start + 1, as: Int32.self),
                  length >= 4, length <= Self.maximumMessage else {
                return .refuse(.malformedMessage)
            }
            guard pending.readableBytes >= 1 + Int(length) else { return .more }
            if type == UInt8(ascii: "R"), length >= 8, let code = pending.getInteger(at: start + 5, as: Int32.self) {
                if code == 3, !allowCleartextPassword { return .refuse(.cleartextPassword) }
                if code == 0 { return .authenticated }
            }
            pending.moveReaderIndex(forwardBy: 1 + Int(length))
        }
        pending.discardReadBytes()
        return .more
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshaking = state, let event = event as? TLSUserEvent, case .handshakeCompleted = event {
            state = .authenticating
            deadline?.cancel()
            ready.succeed()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch state {
        case .awaitingTLSAnswer, .handshaking:
            // NIOSSL says "Couldn't find <none> in certificate" when the host is an IP address.
            let hostMismatch = (error as? NIOSSLExtraError) == .failedToValidateHostname
            giveUp(.handshake(hostMismatch ? "the certificate names neither that host name nor that address" : "\(error)"), context: context)
        case .authenticating, .done: context.fireErrorCaught(error)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        switch state {
        case .awaitingTLSAnswer, .handshaking: giveUp(.closedDuringNegotiation, context: context)
        case .authenticating, .done: break
        }
        context.fireChannelInactive()
    }

    /// Before postgres-nio has the channel: fail `ready` with `refusal` (the first reason wins)
    /// and close.
    private func giveUp(_ refusal: Refusal, context: ChannelHandlerContext) {
        switch state {
        case .awaitingTLSAnswer, .handshaking:
            state = .done
            deadline?.cancel()
            outcome.refusal.withLock { $0 = $0 ?? refusal }
            ready.fail(refusal)
            context.close(promise: nil)
        case .authenticating, .done:
            break
        }
    }
}
