import Logging
import PorteroCore
import ServiceLifecycle
import Systemd

/// Checks the mail transport at start-up, before `READY=1`: a missing sendmail binary, an unwritable Maildir, or an
/// SMTP server that does not answer or refuses the login is logged (`mail.unavailable` at `err`), put in
/// `STATUS=` (through ``MailStatus``, which ``LifecycleService`` reads) and shown by `/readyz`. The daemon still
/// starts — logins and tokens work without mail, and the outbox keeps queued mail — and the check runs again every
/// 30 seconds until it passes (`mail.available`).
struct MailCheckService: Service {
    let mailer: any Mailer
    let transport: String
    let status: MailStatus
    let readiness: Readiness
    let notifier: Notifier
    let logger: Logger
    var interval: Duration = .seconds(30)

    func run() async throws {
        let first = await check(previous: nil)
        await readiness.partUp()
        await cancelWhenGracefulShutdown {
            var failing = first
            while failing != nil, !Task.isCancelled {
                try? await Task.sleep(for: interval)
                if Task.isCancelled { break }
                failing = await check(previous: failing)
            }
        }
        try? await gracefulShutdown()
    }

    /// Runs the transport's check; logs and publishes a change. Returns the problem, nil when it passed.
    private func check(previous: String?) async -> String? {
        do {
            try await mailer.check()
        } catch {
            let problem = "\(transport): \(error)"
            if problem != previous {
                logger.error(
                    "mail transport does not work; mail stays queued",
                    metadata: ["event": "mail.unavailable", "transport": .string(transport), "error": "\(error)"])
                await status.set(problem)
                if previous != nil { _ = notifier.status("mail: \(problem)") }
            }
            return problem
        }
        if previous != nil {
            logger.info(
                "mail transport works again", metadata: ["event": "mail.available", "transport": .string(transport)])
            await status.set(nil)
            _ = notifier.status("serving; mail through \(transport) works again")
        }
        return nil
    }
}

extension MailCheckService: CustomStringConvertible {
    var description: String { "MailCheckService" }
}
