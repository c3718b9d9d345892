import PorteroCore
import Synchronization

/// The current ``TokenService``; SIGHUP replaces it when keys or claim settings change.
///
/// A lock, not an actor: every token check reads it, and a hop onto an actor per request cost more than the read.
final class TokenServiceHolder: Sendable {
    private let service: Mutex<TokenService>

    init(_ service: TokenService) {
        self.service = Mutex(service)
    }

    var current: TokenService {
        service.withLock { $0 }
    }

    func replace(with service: TokenService) {
        self.service.withLock { $0 = service }
    }
}
