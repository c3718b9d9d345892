import PorteroCore
import PorteroStore
import ServiceLifecycle

/// Owns the store's lifetime inside the group: periodic snapshots, and on shutdown (after the listeners have
/// drained, since it is first in the group) a final snapshot and release of the lock.
struct StoreService: Service {
    let store: FileStore<AuthState>
    let checkInterval: Duration

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown {
                try await Task.sleep(for: checkInterval)
            }
            if Task.isShuttingDownGracefully || Task.isCancelled { break }
            await store.snapshotIfDue()
        }
        await store.close(snapshot: true)
    }
}

extension StoreService: CustomStringConvertible {
    var description: String { "StoreService" }
}
