import ArgumentParser
import Foundation

/// Why a command could not do what it was asked, in its own words: printed once, as
/// `retentionctl: MESSAGE` on stderr, and the command exits with `status`.
struct CommandFailure: Error, CustomStringConvertible {
    /// What went wrong, where, and what to do about it when there is something.
    var message: String
    var status: ExitStatus

    init(_ message: String, status: ExitStatus = .failure) {
        self.message = message
        self.status = status
    }

    var description: String { message }

    /// The one way an error ends a command, whichever command and whatever the error.
    ///
    /// An `ExitCode` carries the status of a report the command has printed already (lint's
    /// problems, a broken audit trail); any other error — a state database, a store or the engine
    /// that failed — is printed as the command's failure, never as the argument parser's generic
    /// "Error:" and usage, which are for a command line it refused.
    static func exit(reporting error: any Error) -> Never {
        let failure: CommandFailure
        switch error {
        case let error as ExitCode:
            Foundation.exit(error.rawValue)
        case let error as CommandFailure:
            failure = error
        case let error as ValidationError:
            failure = CommandFailure(error.message, status: .usage)
        default:
            failure = CommandFailure("\(error)")
        }
        Output.error("retentionctl: \(failure.message)")
        Foundation.exit(failure.status.rawValue)
    }
}
