import Foundation

/// Reads codes out of the Maildir the daemon delivers to (the embedded default transport in tests).
public enum MaildirReader {
    /// Waits until a message to `address` containing a 6-digit code arrives after `skipping` earlier ones, and
    /// returns the code. Polls (bounded); never sleeps blindly.
    public static func waitForCode(
        in maildir: String,
        to address: String,
        skipping earlier: Int = 0,
        timeout: Duration = .seconds(20)
    ) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let codes = messages(in: maildir, to: address).compactMap(code(in:))
            if codes.count > earlier { return codes[earlier] }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw TestClientError("no mail to \(address) in \(maildir) within \(timeout)")
    }

    /// The messages to `address` in `new/`, oldest first.
    public static func messages(in maildir: String, to address: String) -> [String] {
        let directory = maildir + "/new"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { name -> (Date, String)? in
            let path = directory + "/" + name
            guard let text = try? String(contentsOfFile: path, encoding: .utf8),
                text.contains("To: \(address)") || text.contains("To: <\(address)>"),
                let modified = try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date
            else { return nil }
            return (modified, text)
        }
        .sorted { $0.0 < $1.0 }
        .map(\.1)
    }

    /// The first run of exactly six digits in a message body.
    public static func code(in message: String) -> String? {
        let body = message.components(separatedBy: "\n\n").dropFirst().joined(separator: "\n\n")
        let characters = Array(body)
        var index = 0
        while index < characters.count {
            if characters[index].isASCII && characters[index].isNumber {
                var end = index
                while end < characters.count && characters[end].isASCII && characters[end].isNumber { end += 1 }
                if end - index == 6 { return String(characters[index..<end]) }
                index = end
            } else {
                index += 1
            }
        }
        return nil
    }
}
