import RetentionEngine

/// The journal's `MESSAGE_ID=` of each kind of event. These ids are an interface: auditors filter
/// on them (`journalctl MESSAGE_ID=…`) and the catalog (`catalog/retentiond.catalog`) explains
/// them under `journalctl -x`. Never change one; a new kind of event gets a new id.
enum MessageIDs {
    static let byEvent: [EngineEvent: String] = [
        .jobPlanned: "23dfe35d37024f72aaf4f5ea6e672a4a",
        .jobDone: "02454d1d8512487bbdd69d2821c569a1",
        .jobFailed: "0485e9cde3a7409a89db997891df029e",
        .jobCancelled: "2828448497dc4da4bcefb3a1f4e9c09e",
        .approvalNeeded: "78989872780f46dba1ed30faee4ea12d",
        .deadlineMissed: "1803a743275a4d37a447d7e81573cfd3",
        .erasureDeferred: "72aaee89d5fd428aba4ab54b428496b6",
        .badValue: "0ceb597dd6724647a1b5764ba41aa211",
        .batchSettled: "770ebd19cf81440db01141d11a104bbb",
        .partitionTaken: "2d7ea93c06394d50b98e69498bf9d2ba",
        .holdBlocked: "7f64237501d04e23bfffb9cc72ac4a14",
        .clockRefused: "d949f3380a8449acad56cecd65d9d508",
        .retainNoneViolation: "f6bf603c2e624f4fb2e667be1194c909",
        .rulesReloaded: "35a0aac36da74abe80cd995e59b7256f",
        .rulesRejected: "5fd56c5a3465468cace98d2a007426a1",
        .recordSkipped: "66c53c181bcb4c30957df0937dd97fa8",
        .stateCreated: "580986b2e52646398c9608b4e0b66eda",
        .auditAppended: "194cd2cea8c14da7ae13079264ecc13d",
        .leaderElected: "da9de5e7b9e34cb1940edaadfc56809b",
        .jobTakenOver: "8431504aba0741438a9c66179956bf9e",
        .jobFenced: "5b33ca5bb6644f6d826f6ff9b6089d6c",
        .rulesDiffer: "0d7ed6a4d11c4be99825187c7aebe188",
    ]

    /// The id for an event's name (the `event` metadata value), if it is one of ours.
    static func forEvent(named name: String) -> String? {
        EngineEvent(rawValue: name).flatMap { byEvent[$0] }
    }
}
