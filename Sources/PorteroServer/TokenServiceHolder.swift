import PorteroCore

/// The current ``TokenService``; SIGHUP replaces it when keys or claim settings change.
actor TokenServiceHolder {
    private(set) var current: TokenService

    init(_ service: TokenService) {
        self.current = service
    }

    func replace(with service: TokenService) {
        current = service
    }
}
