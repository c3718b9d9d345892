/// Makes the lockout atomic under parallel attempts: it counts, per email key, the login attempts whose password is
/// being checked right now, so that recorded failures plus attempts in flight never exceed `lockout.max_failures`.
///
/// An attempt goes through three steps:
/// 1. ``reserve(_:)`` before reading the store's failure count;
/// 2. ``admit(_:recordedFailures:maximumFailures:)`` with the count read after the reservation: admitted only if
///    recorded failures, failures finished since the reservation and attempts in flight stay below the maximum;
/// 3. ``release(_:failed:)`` once the outcome is durable (a failure recorded in the store), admitted or not.
///
/// Reserving before reading closes the gap in which another attempt records its failure and leaves: a failure
/// that finished after the reservation is counted here even if the read missed it (a failure may then be counted
/// twice, which only errs towards refusing). Memory holds only keys with attempts under way.
public actor LoginAttemptGate {
    /// One attempt's place in the gate.
    public struct Ticket: Sendable, Hashable {
        enum Stage: Hashable {
            case reserved, admitted, refused
        }

        public let key: String
        /// The key's finished-failure count when the attempt reserved.
        let failuresAtReservation: Int
        let stage: Stage

        /// Whether the attempt was admitted (its password may be checked).
        public var admitted: Bool { stage == .admitted }

        func at(_ stage: Stage) -> Ticket {
            Ticket(key: key, failuresAtReservation: failuresAtReservation, stage: stage)
        }
    }

    private struct Entry {
        /// Attempts between ``reserve(_:)`` and ``release(_:failed:)``.
        var reserved = 0
        /// Admitted attempts not yet released.
        var admitted = 0
        /// Failures released since the entry was made (only differences of it are meaningful).
        var finishedFailures = 0
    }

    private var entries: [String: Entry] = [:]

    public init() {}

    /// The number of keys with attempts under way (for tests).
    public var trackedKeys: Int { entries.count }

    /// Step 1: holds a place for an attempt on `key`.
    public func reserve(_ key: String) -> Ticket {
        var entry = entries[key] ?? Entry()
        entry.reserved += 1
        entries[key] = entry
        return Ticket(key: key, failuresAtReservation: entry.finishedFailures, stage: .reserved)
    }

    /// Step 2: admits the attempt if there is room under `maximumFailures`; a refused attempt has left the gate.
    /// - Parameter recordedFailures: the store's consecutive-failure count for the key, read after ``reserve(_:)``.
    public func admit(_ ticket: Ticket, recordedFailures: Int, maximumFailures: Int) -> Ticket {
        guard ticket.stage == .reserved, var entry = entries[ticket.key] else { return ticket.at(.refused) }
        let finishedSince = entry.finishedFailures - ticket.failuresAtReservation
        guard recordedFailures + finishedSince + entry.admitted < maximumFailures else {
            leave(ticket.key, entry: entry)
            return ticket.at(.refused)
        }
        entry.admitted += 1
        entries[ticket.key] = entry
        return ticket.at(.admitted)
    }

    /// Step 3: the attempt is done. `failed` when an admitted attempt recorded (or tried to record) a failure.
    /// Releasing a reservation that was never admitted withdraws it; releasing a refused ticket does nothing.
    public func release(_ ticket: Ticket, failed: Bool) {
        guard ticket.stage != .refused, var entry = entries[ticket.key] else { return }
        if ticket.stage == .admitted {
            entry.admitted -= 1
            if failed { entry.finishedFailures += 1 }
        }
        leave(ticket.key, entry: entry)
    }

    private func leave(_ key: String, entry: Entry) {
        var entry = entry
        entry.reserved -= 1
        entries[key] = entry.reserved > 0 ? entry : nil
    }
}
