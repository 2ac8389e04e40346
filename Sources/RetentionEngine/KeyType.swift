/// The type of a dataset's key column: how a key typed by an operator is read, and in which type
/// a hold's key is compared with the store's keys.
package enum KeyType: String, Sendable, Hashable, CustomStringConvertible {
    case integer
    case text

    package var description: String { rawValue }
}

/// A key typed by an operator cannot name a record of the dataset.
package struct KeyError: Error, Sendable, CustomStringConvertible {
    package var message: String

    package init(_ message: String) {
        self.message = message
    }

    package var description: String { message }
}

extension RecordKey {
    /// Reads `text` as a key of a column of type `type`, keeping its exact form: an integer column
    /// takes only the canonical spelling of a number (`7`, not `007`, `+7` or `7.0`: the record
    /// meant might be another one, and a hold must name exactly one), a text column the text as typed.
    package init(typed text: String, as type: KeyType) throws(KeyError) {
        switch type {
        case .text:
            self = .text(text)
        case .integer:
            guard let value = Int64(text), String(value) == text else {
                let hint = Int64(text).map { "; the number is written \($0)" } ?? ""
                throw KeyError("the key column holds integers, and \(KeyText.quoted(text)) is not one written plainly\(hint)")
            }
            self = .integer(value)
        }
    }

    /// Whether a hold on this key holds the record keyed `key`.
    ///
    /// Same types compare exactly. A number against text only happens with holds written before
    /// keys kept their type (every text `Int64` read then became a number, so `007` was stored as
    /// 7): such a hold holds every text key that reads as its number, since which one was meant is
    /// lost and a hold must never hold less than was asked. In a files store (`paths`) a key is a
    /// path, and a hold on a directory holds every file below it.
    package func holds(_ key: RecordKey, paths: Bool = false) -> Bool {
        switch (self, key) {
        case (.integer(let a), .integer(let b)): return a == b
        case (.integer(let a), .text(let b)), (.text(let b), .integer(let a)): return Int64(b) == a
        case (.text(let a), .text(let b)):
            if a == b { return true }
            return paths && (a.isEmpty || b.hasPrefix(a.hasSuffix("/") ? a : a + "/"))
        }
    }
}

/// Key text shown to people: quoted, with quotes, backslashes and control characters escaped, so
/// that no key looks like a number or forges a line.
package enum KeyText: Sendable {
    package static func quoted(_ text: String) -> String {
        "\"" + escaped(text, quote: true) + "\""
    }

    /// `text` with backslashes and control, format and line-separator characters escaped (`\n`,
    /// `\x1b`, `\u{85}`): a key or file name is chosen by whoever writes the store, and must not
    /// forge lines or terminal sequences in the journal or on a console.
    package static func escaped(_ text: String, quote: Bool = false) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": result += "\\\\"
            case "\"" where quote: result += "\\\""
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                let category = scalar.properties.generalCategory
                if category == .control || category == .format || category == .lineSeparator || category == .paragraphSeparator {
                    result += scalar.value < 0x80 ? "\\x" + hex2(scalar.value) : "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result
    }

    private static func hex2(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return digits.count == 1 ? "0" + digits : digits
    }

    /// A path typed for a files store, relative to its root: `./a/b/` is `a/b`; an absolute path,
    /// `..`, an empty component or an empty path is refused (it names nothing inside the store,
    /// and a hold on it would protect nothing).
    package static func normalisedPath(_ text: String) throws(KeyError) -> String {
        if text.hasPrefix("/") {
            throw KeyError("\(quoted(text)) is an absolute path; a files store's keys are paths relative to its root")
        }
        var components: [Substring] = []
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        for (index, component) in parts.enumerated() {
            if component == "." { continue }
            if component == ".." { throw KeyError("\(quoted(text)) leaves the store through '..'") }
            // A trailing slash names a directory; `a//b` is a typo whose meaning is not certain.
            if component.isEmpty {
                if index == parts.count - 1, index > 0 { continue }
                throw KeyError("\(quoted(text)) has an empty path component")
            }
            components.append(component)
        }
        guard !components.isEmpty else { throw KeyError("\(quoted(text)) names no file below the store's root") }
        return components.joined(separator: "/")
    }
}
