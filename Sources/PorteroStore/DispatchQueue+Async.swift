import Dispatch

extension DispatchQueue {
    /// Runs blocking `work` on this queue and resumes the caller with its result, keeping blocking system calls
    /// off the Swift cooperative pool.
    func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            self.async {
                continuation.resume(with: Result { try work() })
            }
        }
    }

    /// Runs blocking `work` on this queue and resumes the caller with its result.
    func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            self.async {
                continuation.resume(returning: work())
            }
        }
    }
}
