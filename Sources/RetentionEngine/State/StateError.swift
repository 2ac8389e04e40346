/// The state database could not be opened, read or written.
package struct StateError: Error, Sendable, CustomStringConvertible {
    package var path: String
    package var message: String
    /// What the engine does about it: most errors stop the pass; some say another daemon is
    /// acting, and only this job or stage is left alone (`SharedState`).
    package var kind: Kind = .failure

    /// Why a state write was refused, where the engine acts on the difference.
    package enum Kind: Sendable, Equatable {
        /// The database could not be read or written, or refused what was asked.
        case failure
        /// This daemon no longer holds the job's claim (it expired and another daemon may have
        /// taken the job over): it must not touch the job's store again.
        case fenced(job: Int64)
        /// Another daemon planned the same stage meanwhile: job `existing` is open for it.
        case alreadyPlanned(existing: Int64?)
    }

    package init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    package init(path: String, message: String, kind: Kind) {
        self.init(path: path, message: message)
        self.kind = kind
    }

    package var description: String { "\(path): \(message)" }
}
