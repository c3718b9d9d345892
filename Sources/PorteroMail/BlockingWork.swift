import Dispatch

/// Runs blocking system calls (fsync, waitid, socket I/O) on a Dispatch queue, off the Swift cooperative pool.
enum BlockingWork {
    private static let queue = DispatchQueue(label: "portero.mail.blocking", qos: .utility, attributes: .concurrent)

    /// Runs `work` on a Dispatch thread and resumes the caller with its result.
    static func run<T: Sendable>(_ work: @escaping @Sendable () throws(MailError) -> T) async throws(MailError) -> T {
        let result: Result<T, MailError> = await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(returning: Result { () throws(MailError) -> T in try work() })
            }
        }
        return try result.get()
    }
}

extension DispatchTime {
    /// Now plus `duration` (saturating at about 292 years).
    static func after(_ duration: Duration) -> DispatchTime {
        let (seconds, attoseconds) = duration.components
        let (whole, overflow) = max(0, seconds).multipliedReportingOverflow(by: 1_000_000_000)
        let nanoseconds = overflow ? Int64.max : whole.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
        return .now() + .nanoseconds(Int(clamping: nanoseconds))
    }
}
