import Foundation
import Logging
import PorteroCore
import ServiceLifecycle
import Systemd
import UnixSignals

/// `SIGHUP`: reads the configuration's sources again and applies what can change while serving.
///
/// Around each reload it sends `RELOADING=1` with `MONOTONIC_USEC` and then `READY=1`, as `Type=notify-reload`
/// expects. Applied live: the token service (`issuer`, `audience`, `access_ttl`, `jwt.algorithm` and the signing keys,
/// re-read from their source, see ``KeyMaterial``), `log.level`, and — when the daemon started with TLS — the
/// certificate and key, re-read from the files `tls.certificate` and `tls.key` name; the templates of
/// `mail.templates`, always re-read (a file that does not parse refuses the reload). Every other changed key is
/// named in one warning
/// line and takes effect at the next restart. A configuration that does not load or validate is refused with one
/// error line, and the running one is kept.
///
/// - Important: `SIGHUP` is trapped only once this service runs, and before that it ends the process (its default);
///   so the service reports to ``Readiness`` once the trap is in place, and `READY=1` waits for it.
struct ReloadService: Service, CustomStringConvertible {
    /// Builds the token service a configuration describes, reading its signing secret.
    typealias TokenServiceFactory = @Sendable (PorteroConfiguration) async throws -> TokenService

    let initial: PorteroConfiguration
    let tokens: TokenServiceHolder
    /// The TCP listener's certificate, when it speaks TLS.
    let tls: TLSCertificates?
    /// The mail templates and sign-in page in force.
    let templates: LiveTemplates
    /// `{{app_name}}`, as started.
    let appName: String
    let makeTokenService: TokenServiceFactory
    let notifier: Notifier
    let readiness: Readiness
    let logger: Logger

    /// What service-lifecycle logs for this service: never the configuration, which may hold `jwt.secret`.
    var description: String { "ReloadService" }

    /// Keys applied without a restart.
    static let liveKeys: Set<String> = [
        "issuer", "audience", "access_ttl", "jwt.algorithm", "jwt.secret", "log.level", "mail.templates",
    ]
    /// Keys also applied without a restart when the TCP listener was started with TLS (and keeps it).
    static let liveTLSKeys: Set<String> = ["tls.certificate", "tls.key"]

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        await readiness.partUp()
        var current = initial
        for await _ in signals.cancelOnGracefulShutdown() {
            _ = notifier.reloading(status: "reloading configuration")
            current = await reload(from: current)
            _ = notifier.ready(status: "serving; configuration reloaded")
        }
    }

    /// Loads and applies the configuration; returns the one now in force.
    func reload(from current: PorteroConfiguration) async -> PorteroConfiguration {
        guard let origin = current.origin else {
            logger.error(
                "configuration reload refused: its sources are unknown; keeping the running configuration",
                metadata: ["event": "config.reload_failed"]
            )
            return current
        }
        let loader = ConfigurationLoader(file: origin.file, flags: origin.flags)
        let next: PorteroConfiguration
        let tokenService: TokenService
        var certificates: TLSCertificates.Material?
        let loadedTemplates: LiveTemplates.Loaded
        do {
            next = try await loader.load()
            // Re-read even when the key did not change: editing a file and sending SIGHUP is how templates change.
            loadedTemplates = try LiveTemplates.load(next.mail, appName: appName)
            // Codes and their verification tokens share `code_ttl`; codes keep the one they started with.
            var tokenSettings = next
            tokenSettings.auth.codeTTL = initial.auth.codeTTL
            tokenService = try await makeTokenService(tokenSettings)
            // The files are read again even when their paths did not change: that is how a renewed certificate
            // (certbot, an ACME client) gets picked up. Turning TLS on or off needs a restart.
            if tls != nil, let certificate = next.listeners.tlsCertificate, let key = next.listeners.tlsKey {
                certificates = try TLSCertificates.load(certificate: certificate, key: key)
            }
        } catch {
            logger.error(
                "configuration reload refused; keeping the running configuration",
                metadata: ["event": "config.reload_failed", "reason": .string(Self.reason(error))]
            )
            return current
        }
        tokens.replace(with: tokenService)
        templates.replace(with: loadedTemplates)
        LiveTemplates.log(loadedTemplates, directory: next.mail.templates, logger: logger)
        if let tls, let certificates {
            tls.replace(with: certificates)
        }
        RuntimeLogLevel.set(next.log.level)
        let changed = next.changedKeys(since: current)
        let live = certificates != nil ? Self.liveKeys.union(Self.liveTLSKeys) : Self.liveKeys
        let needRestart = changed.filter { !live.contains($0) }
        if !needRestart.isEmpty {
            logger.warning(
                "configuration reloaded; some changes take effect at the next restart",
                metadata: [
                    "event": "config.reloaded",
                    "changed": .string(changed.joined(separator: ",")),
                    "restart_needed": .string(needRestart.joined(separator: ",")),
                ]
            )
        } else {
            logger.info(
                "configuration reloaded",
                metadata: ["event": "config.reloaded", "changed": .string(changed.joined(separator: ","))]
            )
        }
        // The listeners, the store and the other services keep what they were started with.
        return next
    }

    /// One line, without the secret value (configuration errors name keys, never secret values).
    static func reason(_ error: any Error) -> String {
        if let error = error as? ConfigurationError { return error.message }
        return String(describing: error)
    }
}
