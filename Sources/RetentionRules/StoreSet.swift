import Foundation

/// The stores of one or more stores files, merged and checked against a rule set.
public struct StoreSet: Sendable, Hashable {
    /// Every store, in the order read.
    public private(set) var stores: [Store]
    /// The files read, in order.
    package private(set) var files: [String]

    /// A store set from stores already checked for unique names.
    package init(stores: [Store] = [], files: [String] = []) {
        self.stores = stores
        self.files = files
    }

    /// The store named `id`, if any.
    package subscript(id: String) -> Store? { stores.first { $0.id == id } }
}

/// The result of reading stores files: the usable stores and every problem found.
public struct StoresLoad: Sendable {
    /// The stores without errors, merged.
    public var storeSet: StoreSet
    /// Every problem, in file order.
    public var diagnostics: [Diagnostic]
}

extension StoreSet {
    /// Reads files and directories of stores files and checks them against `rules`.
    package static func load(paths: [String], rules: RuleSet) throws(ConfigurationReadError) -> StoresLoad {
        merge(try ConfigurationFiles.texts(paths), rules: rules)
    }

    /// Parses and merges stores texts, then cross-checks every dataset against `rules`.
    public static func merge(_ texts: [(file: String, text: String)], rules: RuleSet) -> StoresLoad {
        var stores: [Store] = []
        var diagnostics: [Diagnostic] = []
        for (file, text) in texts {
            let (fileStores, fileDiagnostics) = StoresParser.parse(text, file: file)
            diagnostics += fileDiagnostics
            for store in fileStores {
                if let first = stores.first(where: { $0.id == store.id }) {
                    diagnostics.append(.error("duplicate store '\(store.id)': already defined at \(first.location)", at: store.location))
                    continue
                }
                diagnostics += check(store, against: rules)
                stores.append(store)
            }
        }
        return StoresLoad(storeSet: StoreSet(stores: stores, files: texts.map(\.file)), diagnostics: diagnostics)
    }

    /// The cross-checks between a store's datasets and the rules bound to them.
    static func check(_ store: Store, against rules: RuleSet) -> [Diagnostic] {
        var problems: [Diagnostic] = []
        for dataset in store.datasets {
            let at = dataset.location
            let place = "dataset '\(dataset.id)' of store '\(store.id)'"
            for id in dataset.rules {
                guard let rule = rules[id] else {
                    problems.append(.error("\(place) names rule '\(id)', which no rules file defines"
                                           + Suggestion.hint(for: id, among: rules.rules.map(\.id)), at: at))
                    continue
                }
                if !rule.enforcedBy.isEnforceableHere {
                    problems.append(.warning("\(place) is bound to rule '\(id)', which is enforced by \(rule.enforcedBy.rawValue), "
                                             + "not retentiond: it will not be acted on", at: at))
                }
                let needed = (rule.anchor?.fields ?? []) + (rule.condition?.fields.map(\.name) ?? [])
                for field in needed where dataset.fields[field] == nil {
                    let role = rule.anchor?.fields.contains(field) == true ? "anchor" : "condition field"
                    problems.append(.error("\(place): rule '\(id)' counts from \(role) '\(field)', which 'fields:' does not map "
                                           + "(add \(field): COLUMN)", at: at))
                }
                for stage in rule.retention.stages {
                    if !store.kind.actions.contains(stage.action) {
                        problems.append(.error("\(place): rule '\(id)' asks to \(stage.action.rawValue), which a \(store.kind.rawValue) "
                                               + "store cannot do (it can only \(store.kind.actions.map(\.rawValue).sorted().joined(separator: ", ")))", at: at))
                    } else if stage.action == .anonymize, dataset.anonymize.isEmpty, store.kind != .command {
                        problems.append(.error("\(place): rule '\(id)' anonymizes, but the dataset has no 'anonymize:' "
                                               + "strategies (column: null | hmac-sha256 | truncate-ip | month | {fixed: VALUE})", at: at))
                    } else if stage.action == .restrict, dataset.restrictColumn == nil, store.kind != .command {
                        problems.append(.error("\(place): rule '\(id)' restricts, but the dataset names no 'restrict:' column", at: at))
                    }
                }
            }
            problems += BindingCheck.check(dataset, of: store, rules: rules)
        }
        return problems
    }
}
