import Logging
import PorteroCore
import PorteroStore
import ServiceLifecycle
import Systemd

/// Tells systemd what the daemon is doing: `READY=1` once the store is loaded and every listener accepts,
/// `STOPPING=1` when graceful shutdown begins. Placed last in the group so it hears the shutdown first.
struct LifecycleService: Service {
    let readiness: Readiness
    let notifier: Notifier
    let store: FileStore<AuthState>
    let mail: MailStatus
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await readiness.waitUntilReady()
        }
        if Task.isShuttingDownGracefully || Task.isCancelled {
            _ = notifier.stopping(status: "stopping")
            return
        }
        let users = await store.state.users.count
        let listeners = await readiness.listeners
        var status = "serving \(users) users on \(listeners.joined(separator: " and "))"
        if let problem = await mail.problem { status += "; mail: \(problem)" }
        _ = notifier.ready(status: status)
        logger.info(
            "portero ready",
            metadata: ["event": "startup", "listeners": .string(listeners.joined(separator: ","))]
        )
        try? await gracefulShutdown()
        _ = notifier.stopping(status: "stopping: draining requests")
        logger.info("shutting down", metadata: ["event": "shutdown"])
    }
}

extension LifecycleService: CustomStringConvertible {
    var description: String { "LifecycleService" }
}
