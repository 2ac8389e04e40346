import Foundation

extension Store {
    /// A PostgreSQL database that is no store of the stores files but is reached the way a store
    /// is (the state database on PostgreSQL): `id` names it in messages, relative paths in its
    /// URL are relative to the current directory, and a cleartext password request is refused.
    package static func postgres(id: String, dsn: String) -> Store {
        Store(id: id, kind: .postgres, path: nil, dsn: dsn, exec: nil, timeoutSeconds: nil, datasets: [],
              location: SourceLocation(file: "", line: 0, column: 0))
    }
}
