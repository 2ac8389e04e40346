import Foundation
import Crypto

/// The key that seals the audit chain: every record appended with it carries a MAC, so that a
/// chain rewritten with recomputed hashes by someone without the key no longer verifies.
///
/// It is derived from the `hmac-key` credential with HKDF-SHA256 rather than being that key:
/// `hmac-sha256` anonymization computes HMACs of values taken from the stores, which users of
/// those stores can choose; with one key for both, a user who gets a crafted value anonymized
/// would read off a valid audit MAC. Derived, the two keys share one secret to manage and never
/// produce each other's codes.
package struct AuditKey: Sendable {
    let key: SymmetricKey

    /// HKDF's salt and info: fixed, so that an auditor derives the same key (docs/engine.md).
    static let salt = Data("retentiond".utf8)
    static let info = Data("retentiond audit chain v1".utf8)

    /// The audit key derived from the anonymization key's bytes.
    package init(derivedFrom hmacKey: HMACKey) {
        key = HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: hmacKey.bytes), salt: Self.salt, info: Self.info,
                                     outputByteCount: 32)
    }

    /// Lower-case hex HMAC-SHA256 of `chain`, a newline and the record's `hash`. The chain's id
    /// is covered so that a record (or a whole chain) cannot be passed off as another state
    /// database's, nor the id changed to dodge the journal's anchors.
    package func mac(chain: String, hash: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Data((chain + "\n" + hash).utf8), using: key)
        return code.map { String(format: "%02x", $0) }.joined()
    }
}
