import RetentionEngine

/// The partitions `plan` and `run --dry-run` show under their table: which a delete stage takes
/// whole, which it deletes row by row and why.
enum PartitionPathsView {
    static func text(_ lines: [PartitionPathLine]) -> String? {
        guard !lines.isEmpty else { return nil }
        var text = "\npartitioned tables:"
        var last = ""
        for line in lines {
            let heading = "\(line.store)/\(line.dataset), rule \(line.rule) stage \(line.stage):"
            if heading != last { text += "\n  " + heading }
            last = heading
            text += "\n    " + line.text
        }
        return text
    }
}
