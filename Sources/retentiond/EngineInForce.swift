import RetentionEngine
import Synchronization

/// The engine the daemon's passes run on: built at start, replaced whole by a good reload. A pass
/// takes the engine in force when it begins and finishes on it, whatever a reload does meanwhile.
final class EngineInForce: Sendable {
    private let engine: Mutex<Engine>

    init(_ engine: Engine) { self.engine = Mutex(engine) }

    var current: Engine { engine.withLock { $0 } }

    func replace(with engine: Engine) { self.engine.withLock { $0 = engine } }
}
