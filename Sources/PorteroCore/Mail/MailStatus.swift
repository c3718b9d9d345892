/// Whether the configured mail transport works, as the start-up check (and its re-checks) found: read by `/readyz`
/// and `STATUS=`, so a mail problem is visible before the first user waits for a code.
public actor MailStatus {
    /// One line saying what is wrong (never a secret), or nil while the transport works.
    public private(set) var problem: String?

    public init() {}

    public func set(_ problem: String?) {
        self.problem = problem
    }
}
