extension Array {
    /// The element at `index`, or nil past the ends. `package`: the engine reads rule stages by
    /// index with it too.
    package subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
