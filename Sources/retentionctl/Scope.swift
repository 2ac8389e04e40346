import ArgumentParser

/// Options that pick which datasets a command acts on.
struct Scope: ParsableArguments {
    @Option(help: "Only this store.")
    var store: String?

    @Option(help: "Only this dataset.")
    var dataset: String?
}
