/// How a store call that waits a long time — a command store's program still running within its
/// timeout — tells whoever watches the engine that the wait is bounded and still in progress.
///
/// A watchdog that counts only finished batches as progress would kill a daemon whose command
/// store legitimately takes longer than the watchdog's timeout. Such a call is bounded by its own
/// deadline instead, and beats while it waits; a call stuck beyond its own bounds stops beating,
/// and the watchdog does its job. The observer is a task-local value, so that the connections
/// need no new parameter: `Engine.runPass` binds `Engine.heartbeat` here for the whole pass.
package enum StoreHeartbeat: Sendable {
    /// Told, from any thread, at least every `interval` while a store call waits within its bounds.
    @TaskLocal package static var observer: Observer?

    /// The observer as an object: a task-local value of function type crashed the optimized
    /// build (Swift 6.3.1: swift_task_localValuePush read null type metadata at the first pass).
    package final class Observer: Sendable {
        let beat: @Sendable () -> Void

        package init(_ beat: @escaping @Sendable () -> Void) {
            self.beat = beat
        }

        package func callAsFunction() { beat() }
    }

    /// The longest time between two beats of a waiting call.
    package static let interval: Duration = .milliseconds(500)

    /// Tells the observer bound to the current task, if any.
    static func beat() { observer?() }
}
