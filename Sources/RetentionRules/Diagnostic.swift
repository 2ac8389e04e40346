/// One problem found in a rules or stores file, with the place it was found.
///
/// Printed as `FILE:LINE:COLUMN: error: MESSAGE` so that editors and CI annotate the line.
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    /// How serious a problem is.
    public enum Severity: String, Sendable, Hashable {
        /// The file cannot be used as written.
        case error
        /// Legal but suspicious: the file is used, the author should look.
        case warning
    }

    /// Whether the problem blocks the file.
    public var severity: Severity
    /// Where the offending key or value is.
    public var location: SourceLocation
    /// What was expected and what was found.
    public var message: String

    /// Creates a diagnostic.
    package init(_ severity: Severity, at location: SourceLocation, _ message: String) {
        self.severity = severity
        self.location = location
        self.message = message
    }

    /// An error at `location`.
    package static func error(_ message: String, at location: SourceLocation) -> Diagnostic {
        Diagnostic(.error, at: location, message)
    }

    /// A warning at `location`.
    package static func warning(_ message: String, at location: SourceLocation) -> Diagnostic {
        Diagnostic(.warning, at: location, message)
    }

    public var description: String { "\(location): \(severity.rawValue): \(message)" }
}

extension Array where Element == Diagnostic {
    /// Whether any diagnostic is an error.
    public var hasErrors: Bool { contains { $0.severity == .error } }
    /// The errors only.
    package var errors: [Diagnostic] { filter { $0.severity == .error } }
    /// The warnings only.
    package var warnings: [Diagnostic] { filter { $0.severity == .warning } }
}
