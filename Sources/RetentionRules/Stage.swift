/// One step of a rule: `after` a period counted from the anchor, `then` an action.
public struct Stage: Sendable, Hashable, Codable {
    /// The period from the (aligned) anchor.
    public var after: Period
    /// The action taken when the period has passed.
    package var action: Action

    /// Creates a stage.
    package init(after: Period, then action: Action) {
        self.after = after
        self.action = action
    }

    enum CodingKeys: String, CodingKey {
        case after
        case action
    }
}
