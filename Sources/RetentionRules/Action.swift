/// What happens to a record when a stage falls due.
package enum Action: String, Sendable, Hashable, Codable, CaseIterable {
    /// The record is removed.
    case delete
    /// Identifying columns are replaced per the dataset's anonymization strategies.
    case anonymize
    /// The record is kept but marked restricted (GDPR Art. 18): no processing but storage.
    case restrict
}

extension Action {
    /// `deleted`, `anonymized`, `restricted`: for messages.
    package var pastTense: String {
        switch self {
        case .delete: "deleted"
        case .anonymize: "anonymized"
        case .restrict: "restricted"
        }
    }
}
