import Logging
import Mustache
import PorteroCore
import PorteroHTTP
import PorteroMail
import Synchronization

/// The templates in force: the mail templates and the sign-in page, built-ins overlaid by the files of
/// `mail.templates`. Read synchronously by every message composed and every page served; replaced whole by a
/// `SIGHUP` that loads a good set (``ReloadService``).
final class LiveTemplates: Sendable {
    /// One loaded set.
    struct Loaded: Sendable {
        var mail: MailTemplates
        /// The admin's `signin.html.mustache`, or nil for the built-in page.
        var signIn: MustacheTemplate?
        /// The override files in use, by name (for the log).
        var overrides: [String]
    }

    private let current: Mutex<Loaded>

    init(_ loaded: Loaded) {
        current = Mutex(loaded)
    }

    var loaded: Loaded { current.withLock { $0 } }
    var mail: MailTemplates { current.withLock { $0.mail } }
    var signIn: MustacheTemplate? { current.withLock { $0.signIn } }

    func replace(with loaded: Loaded) {
        current.withLock { $0 = loaded }
    }

    /// Reads and checks `mail.templates`; `appName` is what `{{app_name}}` says.
    ///
    /// - Throws: ``ConfigurationError`` naming the file (and line) that cannot be used: at start-up, exit 78.
    static func load(_ configuration: MailConfiguration, appName: String) throws(ConfigurationError) -> Loaded {
        do {
            let directory = try TemplateDirectory.load(configuration.templates) { name in
                MailTemplates.isMailTemplateName(name) || name == SignInPage.templateName
            }
            return Loaded(
                mail: try MailTemplates.load(directory, appName: appName),
                signIn: directory.templates[SignInPage.templateName],
                overrides: directory.templates.keys.sorted())
        } catch {
            throw ConfigurationError(error.message)
        }
    }

    /// Says which override files are in use (names only).
    static func log(_ loaded: Loaded, directory: String, logger: Logger) {
        logger.info(
            "templates loaded",
            metadata: [
                "event": "templates.loaded", "directory": .string(directory),
                "overrides": .string(loaded.overrides.joined(separator: ",")),
            ])
    }
}

/// The files compiled into the binary, in the form an override takes: the mail templates and the sign-in page.
public enum BuiltInTemplates {
    /// Every built-in template, by the file name that overrides it.
    public static var files: [String: String] {
        MailTemplates.builtInFiles.merging([SignInPage.templateName: SignInPage.builtInTemplateText]) { first, _ in
            first
        }
    }
}
