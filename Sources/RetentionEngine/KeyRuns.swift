/// A batch's keys with their runs of consecutive integers told apart.
///
/// A batch taken from an append-only table along its anchor's index is mostly one run of ids: the
/// store then changes it as a range (`id BETWEEN a AND b`, a walk along the table) rather than
/// seeking each of thousands of listed keys, and the state database records two numbers rather
/// than the list. A range names exactly its keys: every integer in it is one of them.
package struct KeyRuns: Sendable, Hashable, Codable {
    /// Runs of at least `shortestRun` consecutive integer keys.
    package var ranges: [ClosedRange<Int64>] = []
    /// Text keys, and integers outside any run.
    package var singles: [RecordKey] = []

    /// Shorter runs are listed: a range costs a clause, a listed key only a bind.
    static let shortestRun = 4

    package init(_ keys: [RecordKey]) {
        let integers = Self.increasing(keys) ?? Self.distinctSorted(keys, texts: &singles)
        var start = 0
        while start < integers.count {
            var end = start
            while end + 1 < integers.count, integers[end + 1] == integers[end] &+ 1 { end += 1 }
            if end - start + 1 >= Self.shortestRun {
                ranges.append(integers[start]...integers[end])
            } else {
                singles.append(contentsOf: integers[start...end].map(RecordKey.integer))
            }
            start = end + 1
        }
    }

    /// The keys when all are integers in strictly increasing order — a batch read along an
    /// index of an append-only table mostly is — in one pass, without the set and the sort.
    private static func increasing(_ keys: [RecordKey]) -> [Int64]? {
        var integers: [Int64] = []
        integers.reserveCapacity(keys.count)
        for key in keys {
            guard case .integer(let value) = key, integers.last.map({ $0 < value }) ?? true else { return nil }
            integers.append(value)
        }
        return integers
    }

    /// The integer keys, each once, in order; the text keys go to `texts`.
    private static func distinctSorted(_ keys: [RecordKey], texts: inout [RecordKey]) -> [Int64] {
        var distinct = Set<Int64>()
        for key in keys {
            switch key {
            case .integer(let value): distinct.insert(value)
            case .text: texts.append(key)
            }
        }
        return distinct.sorted()
    }

    /// Every key, ranges expanded: the integers in order (the last is the greatest, where a job
    /// in key order resumes after a crash), then the text keys as given.
    package var keys: [RecordKey] {
        var integers = ranges.flatMap { Array($0) }
        var texts: [RecordKey] = []
        for key in singles {
            switch key {
            case .integer(let value): integers.append(value)
            case .text: texts.append(key)
            }
        }
        return integers.sorted().map(RecordKey.integer) + texts
    }

    package var isEmpty: Bool { ranges.isEmpty && singles.isEmpty }
}
