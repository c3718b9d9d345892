public import Dispatch

extension DispatchQueue {
    /// A concurrent queue for blocking calls that must not hold a Swift cooperative thread (mail transports).
    public static let blockingWork = DispatchQueue(label: "portero.blocking", qos: .utility, attributes: .concurrent)

    /// Runs blocking `work` on this queue and resumes the caller with its result, keeping blocking system calls
    /// off the Swift cooperative pool.
    public func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            self.async {
                continuation.resume(with: Result { try work() })
            }
        }
    }

    /// Runs blocking `work` on this queue and resumes the caller with its result.
    public func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            self.async {
                continuation.resume(returning: work())
            }
        }
    }
}
