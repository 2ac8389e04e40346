import Foundation
import PostgresNIO

extension PostgresRow {
    /// The row as a record whose coding keys are its columns (`JobRow`, `HoldRow`, `AuditRecord`,
    /// …): the same types the SQLite backend reads, so that both read a row alike. Integers,
    /// booleans, text and NULL are all the state tables hold.
    func record<T: Decodable>(_ type: T.Type) throws -> T {
        var object: [String: Any] = [:]
        for cell in self {
            guard cell.bytes != nil else {
                object[cell.columnName] = NSNull()
                continue
            }
            switch cell.dataType {
            case .int2, .int4, .int8: object[cell.columnName] = NSNumber(value: try cell.decode(Int64.self))
            case .bool: object[cell.columnName] = try cell.decode(Bool.self)
            default: object[cell.columnName] = try cell.decode(String.self)
            }
        }
        return try JSONDecoder().decode(type, from: try JSONSerialization.data(withJSONObject: object))
    }
}

extension PostgresBindings {
    /// Appends an optional text or integer, NULL when absent.
    mutating func add(_ value: String?) {
        if let value { append(value) } else { appendNull() }
    }

    mutating func add(_ value: Int?) {
        if let value { append(Int64(value)) } else { appendNull() }
    }

    mutating func add(_ value: Int64?) {
        if let value { append(value) } else { appendNull() }
    }
}
