import FuzzSupport
import RetentionRules

/// One input: the text of a stores file, parsed and cross-checked against a fixed rule set, as
/// `retentionctl lint --stores` and the daemon read it.
///
/// Invariants: reading never traps, whatever the text; every problem has a place (line and
/// column from 1); a file without errors binds its datasets only to rules that exist.
@main
enum FuzzStores {
    static func main() { runFuzzer(fuzzOne) }
}

/// Rules of every shape a dataset is checked against: actions, anchors, conditions, kinds,
/// enforcement elsewhere. The stores corpus names these ids.
let rulesText = """
    version: 1
    defaults: {timezone: Europe/Brussels}
    rules:
      contracts: {retain: 10y, from: contract_end, then: delete}
      tracking-data:
        from: collected_at
        stages: [{after: 7d, then: anonymize}, {after: 90d, then: delete}]
      accounts-never-used: {retain: 30d, from: created_at, when: first_login_at is null, then: delete}
      restricted: {retain: 1y, from: [erasure_requested_at, closed_at], then: restrict}
      device-logs: {retain: 1y, from: created_at, align: end-of-year, then: delete}
      tax-documents: {retain: 7y, from: issued_at, then: delete, lock: true, kind: obligation, basis: tax law}
      cookies: {retain: 13mo, from: set_at, then: delete, enforced-by: browser}
      newsletter-blacklist: {retain: forever, kind: purpose, basis: legitimate interest}
      address-book: {retain: none, kind: erasure, from: collected_at, basis: data minimisation}

    """
let rules: RuleSet = {
    let load = RuleSet.merge([(file: "rules.yaml", text: rulesText)])
    require(!load.diagnostics.hasErrors, "the fixed rules have errors: \(load.diagnostics)")
    return load.ruleSet
}()

func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let load = StoreSet.merge([(file: "fuzz.yaml", text: text(data, size))], rules: rules)
    for diagnostic in load.diagnostics {
        require(diagnostic.location.line >= 1 && diagnostic.location.column >= 1, "no place: \(diagnostic)")
    }
    guard !load.diagnostics.hasErrors else { return 0 }
    for store in load.storeSet.stores {
        for dataset in store.datasets {
            for id in dataset.rules {
                require(rules[id] != nil, "store \(store.id), dataset \(dataset.id): unknown rule '\(id)' passed without an error")
            }
        }
    }
    return 0
}
