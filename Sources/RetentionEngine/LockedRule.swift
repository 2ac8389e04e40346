package import Foundation
package import RetentionRules

/// What the state database remembers of a `lock: true` rule: everything that decides how long it
/// keeps a record, so that no later rules or stores file can shorten it by another route than its
/// period (a narrower `when:`, an earlier stage, another zone, an unbound or re-mapped dataset).
package struct LockedRule: Sendable, Hashable {
    package var rule: String
    package var anchor: [String]
    package var stages: [Stage]
    /// `forever`, `none` or `stages`.
    package var retention: String
    /// The rule's kind when it was last accepted.
    package var kind: Kind
    package var recordedAt: Date
    /// The rest of the rule's form; nil for a rule remembered before version 4 of the state schema
    /// (those aspects are then learnt at the next accepted pass).
    package var form: Form?

    /// The parts of a locked rule besides its period and anchor.
    package struct Form: Sendable, Hashable, Codable {
        /// The IANA zone its calendar arithmetic ran in.
        package var timeZone: String
        /// `end-of-day`, `end-of-month`, `end-of-year`, or nil.
        var alignment: String?
        /// The canonical `when:` text, or nil for every record.
        package var condition: String?
        /// Who enforced it.
        var enforcedBy: String
        /// Every dataset it was ever bound to (never forgotten).
        package var bindings: [Binding]

        enum CodingKeys: String, CodingKey {
            case timeZone = "time_zone", alignment, condition, enforcedBy = "enforced_by", bindings
        }
    }

    /// A dataset a locked rule was bound to, and the columns its fields read there.
    package struct Binding: Sendable, Hashable, Codable {
        package var store: String
        package var dataset: String
        /// The physical place: store kind, location and table (or file pattern), so that renaming
        /// the store or dataset does not shake the rule off its data.
        package var target: String
        /// The rule's logical fields (anchor and `when:`) → the columns they were mapped to.
        package var fields: [String: String]
    }

    /// The form of `rule` as bound in `stores` now.
    static func form(of rule: Rule, in stores: StoreSet) -> Form {
        let bindings = stores.stores.flatMap { store in
            store.datasets.filter { $0.rules.contains(rule.id) }.map { binding(of: rule, to: $0, in: store) }
        }
        return Form(timeZone: rule.timeZone, alignment: rule.alignment?.rawValue, condition: rule.condition?.description,
                    enforcedBy: rule.enforcedBy.rawValue, bindings: bindings)
    }

    static func binding(of rule: Rule, to dataset: Dataset, in store: Store) -> Binding {
        let names = (rule.anchor?.fields ?? []) + (rule.condition?.fields.map(\.name) ?? [])
        var fields: [String: String] = [:]
        for name in names { fields[name] = dataset.fields[name] ?? "" }
        return Binding(store: store.id, dataset: dataset.id, target: target(of: dataset, in: store), fields: fields)
    }

    /// Where a dataset's records physically are, whatever the store and dataset are called.
    static func target(of dataset: Dataset, in store: Store) -> String {
        let place: String
        switch store.kind {
        case .sqlite, .files:
            place = store.resolve(store.path ?? "")
        case .postgres:
            // Host, port and database; never the user, password or parameters.
            let url = URLComponents(string: store.dsn ?? "")
            place = "\(url?.host ?? "")/\(url?.port.map(String.init) ?? "")\(url?.path ?? "")"
        case .command:
            place = store.resolve(store.exec ?? "") + "#" + dataset.id
        }
        return "\(store.kind.rawValue):\(place)|\(dataset.table ?? dataset.match ?? "")"
    }
}

extension LockedRule {
    /// What to remember of the locked `rule` as bound in `stores` at `now`. The bindings of what
    /// was remembered before (`known`) are kept: a dataset a locked rule was ever bound to stays.
    init(_ rule: Rule, in stores: StoreSet, at now: Date, known: LockedRule?) {
        var form = Self.form(of: rule, in: stores)
        for old in known?.form?.bindings ?? [] where !form.bindings.contains(where: { $0.store == old.store && $0.dataset == old.dataset }) {
            form.bindings.append(old)
        }
        form.bindings.sort { ($0.store, $0.dataset) < ($1.store, $1.dataset) }
        let retention = switch rule.retention { case .forever: "forever"; case .never: "none"; case .stages: "stages" }
        self.init(rule: rule.id, anchor: rule.anchor?.fields ?? [], stages: rule.retention.stages, retention: retention,
                  kind: rule.kind, recordedAt: now, form: form)
    }
}
