public import Foundation
public import Mustache

/// A template that cannot be used: why the daemon refuses to start (exit 78) or keeps its old templates on a
/// reload. One line naming the file and, for a syntax error, its line.
public struct TemplateError: Error, Sendable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// The override files of `mail.templates`, parsed: every `*.mustache` file directly in the directory, by file name.
/// Names ending `.html.mustache` are HTML (`{{name}}` is escaped); the others are plain text (nothing is escaped).
///
/// A missing directory holds no overrides. A file whose name Portero does not know, that is not a regular file
/// (after symbolic links), larger than ``maxFileSize``, not UTF-8, or that does not parse, is refused with a
/// ``TemplateError`` naming it; other files (`README`, an editor's `~` backup) are ignored.
public struct TemplateDirectory: Sendable {
    /// The parsed files, by name.
    public let templates: [String: MustacheTemplate]
    /// Where each came from (full path), by name.
    public let paths: [String: String]

    /// The largest template file read.
    public static let maxFileSize = 256 * 1024

    /// No overrides.
    public static let empty = TemplateDirectory(templates: [:], paths: [:])

    init(templates: [String: MustacheTemplate], paths: [String: String]) {
        self.templates = templates
        self.paths = paths
    }

    /// Reads and parses the directory.
    ///
    /// - Parameters:
    ///   - directory: the directory (`mail.templates`).
    ///   - isKnown: whether a file name is one Portero uses.
    public static func load(_ directory: String, isKnown: (String) -> Bool) throws(TemplateError) -> TemplateDirectory {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            var isDirectory: ObjCBool = false
            if !FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
                return .empty
            }
            throw TemplateError("mail.templates: cannot read the directory \(directory)")
        }
        var templates: [String: MustacheTemplate] = [:]
        var paths: [String: String] = [:]
        for name in names.sorted() where name.hasSuffix(".mustache") && !name.hasPrefix(".") {
            let path = (directory as NSString).appendingPathComponent(name)
            guard isKnown(name) else {
                throw TemplateError(
                    "mail.templates: \(path): not a template name Portero uses "
                        + "(<kind>.<lang>.subject|txt|html.mustache or signin.html.mustache)")
            }
            templates[name] = try parse(read(path), name: name, path: path)
            paths[name] = path
        }
        return TemplateDirectory(templates: templates, paths: paths)
    }

    /// The file's text.
    static func read(_ path: String) throws(TemplateError) -> String {
        let attributes = try? FileManager.default.attributesOfItem(atPath: (path as NSString).resolvingSymlinksInPath)
        guard let attributes, attributes[.type] as? FileAttributeType == .typeRegular else {
            throw TemplateError("mail.templates: \(path): not a regular file")
        }
        if let size = attributes[.size] as? Int, size > maxFileSize {
            throw TemplateError("mail.templates: \(path): larger than \(maxFileSize / 1024) KiB")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TemplateError("mail.templates: \(path): cannot be read")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw TemplateError("mail.templates: \(path): not UTF-8 text")
        }
        return text
    }

    /// Parses `text` as the template `name` (HTML when it ends `.html.mustache`, else plain text).
    ///
    /// - Parameter path: what an error calls the template (its file, or "built-in name").
    public static func parse(_ text: String, name: String, path: String) throws(TemplateError) -> MustacheTemplate {
        // Plain text: switch mustache's escaping off. The pragma sits on line 1 without a line break of its own, so
        // an error's line number is the file's.
        let source = name.hasSuffix(".html.mustache") ? text : "{{% CONTENT_TYPE: TEXT}}" + text
        do {
            return try MustacheTemplate(string: source)
        } catch let error as MustacheTemplate.ParserError {
            throw TemplateError("mail.templates: \(path) line \(error.context.lineNumber): \(reason(error.error))")
        } catch {
            throw TemplateError("mail.templates: \(path): \(error)")
        }
    }

    /// A parse error in words.
    static func reason(_ error: any Error) -> String {
        // The reader's only error of its own: the text ended inside a tag.
        guard let error = error as? MustacheTemplate.Error else { return "a tag is not finished (missing }})" }
        switch error {
        case .sectionCloseNameIncorrect: return "a section is closed under another name"
        case .unfinishedName: return "a tag is not finished (missing }})"
        case .expectedSectionEnd: return "a section is still open at the end of the file ({{/name}} missing)"
        case .invalidSetDelimiter: return "a set-delimiter tag is malformed"
        case .transformAppliedToInheritanceSection: return "a transform is applied to an inheritance section"
        case .illegalTokenInsideInheritSection: return "an inheritance section holds a tag it cannot"
        case .textInsideInheritSection: return "an inheritance section holds text"
        case .invalidConfigVariableSyntax: return "a {{% }} pragma is malformed"
        case .unrecognisedConfigVariable: return "a {{% }} pragma is not known"
        }
    }
}
