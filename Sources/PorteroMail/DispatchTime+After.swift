import Dispatch

extension DispatchTime {
    /// Now plus `duration` (saturating at about 292 years).
    static func after(_ duration: Duration) -> DispatchTime {
        let (seconds, attoseconds) = duration.components
        let (whole, overflow) = max(0, seconds).multipliedReportingOverflow(by: 1_000_000_000)
        let nanoseconds = overflow ? Int64.max : whole.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
        return .now() + .nanoseconds(Int(clamping: nanoseconds))
    }
}
