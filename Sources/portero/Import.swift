import ArgumentParser
import Foundation

/// `portero import FILE.jsonl`: users from another stack, one JSON object a line, through the admin API.
struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import users from a JSON-lines file, keeping their password hashes (admin API).",
        discussion: """
            One JSON object a line: {"email", "password_hash"?, "name"?, "phone"?, "email_verified"?, "roles"?, \
            "created_at"?}. Hashes are kept as they are and replaced by argon2id at each user's first login: \
            bcrypt, argon2id, werkzeug pbkdf2/scrypt, Django pbkdf2_sha256/pbkdf2_sha1/scrypt/argon2, Keycloak \
            pbkdf2-sha512 (a string, or the credential object of a Keycloak export). An address that has an account \
            is updated with the fields given, so running the same file again creates no one twice. Bad lines are \
            reported with their number and skipped. Exit status: 0 when every line went in, 2 when some were \
            skipped, 1 when the import could not run (run it again: it is idempotent).
            """
    )

    @OptionGroup var options: AdminOptions
    @Argument(help: "The JSON-lines file (- for standard input).") var file: String

    /// Largest request body the daemon takes is 64 KiB; batches stay under this.
    static let batchBytes = 60_000
    static let batchUsers = 500

    func run() async throws {
        let data: Data
        do {
            data =
                file == "-"
                ? FileHandle.standardInput.readDataToEndOfFile()
                : try Data(contentsOf: URL(fileURLWithPath: file))
        } catch {
            throw CommandSupport.fail("cannot read \(file): \((error as NSError).localizedDescription)")
        }
        let client = try await options.client()
        var total = Totals()
        var batch: [(line: Int, bytes: ArraySlice<UInt8>)] = []
        var size = 16
        let bytes = Array(data)
        var lineNumber = 0
        var start = 0
        while start < bytes.count {
            let end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
            lineNumber += 1
            var line = bytes[start..<end]
            start = end + 1
            if line.last == 0x0D { line = line.dropLast() }
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            guard line.count <= Self.batchBytes - 32 else {
                total.problems.append((lineNumber, "longer than \(Self.batchBytes - 32) bytes"))
                continue
            }
            guard (try? JSONSerialization.jsonObject(with: Data(line), options: [.fragmentsAllowed])) is [String: Any]
            else {
                total.problems.append((lineNumber, "not a JSON object"))
                continue
            }
            if size + line.count + 1 > Self.batchBytes || batch.count == Self.batchUsers {
                try send(batch, client, &total)
                (batch, size) = ([], 16)
            }
            batch.append((lineNumber, line))
            size += line.count + 1
        }
        if !batch.isEmpty { try send(batch, client, &total) }
        total.problems.sort { $0.line < $1.line }
        report(total)
        if !total.problems.isEmpty { throw ExitCode(2) }
    }

    struct Totals {
        var imported = 0
        var updated = 0
        var unchanged = 0
        var problems: [(line: Int, reason: String)] = []
    }

    /// Sends one batch; a batch the daemon cannot read as a whole (a line Foundation accepts but the daemon's
    /// strict parser does not: a duplicate key, a lone surrogate) is sent again a line at a time, so that only the
    /// bad line is skipped.
    private func send(_ batch: [(line: Int, bytes: ArraySlice<UInt8>)], _ client: AdminClient, _ total: inout Totals)
        throws
    {
        guard !batch.isEmpty else { return }
        var body = Array(#"{"users":["#.utf8)
        for (index, item) in batch.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            body.append(contentsOf: item.bytes)
        }
        body.append(contentsOf: Array("]}".utf8))
        let answer = try client.exchangeRaw("POST", "/admin/v1/import", body: Data(body))
        if answer.status == 400, (answer.json?["fields"] as? [String: Any])?["body"] != nil {
            if batch.count == 1 {
                let reason = (answer.json?["message"] as? String) ?? "not valid JSON"
                total.problems.append((batch[0].line, reason))
                return
            }
            for item in batch { try send([item], client, &total) }
            return
        }
        let json = try client.checked(answer).json ?? [:]
        total.imported += json["imported"] as? Int ?? 0
        total.updated += json["updated"] as? Int ?? 0
        total.unchanged += json["unchanged"] as? Int ?? 0
        for problem in json["problems"] as? [[String: Any]] ?? [] {
            guard let index = problem["index"] as? Int, batch.indices.contains(index) else { continue }
            total.problems.append((batch[index].line, problem["reason"] as? String ?? "skipped"))
        }
    }

    private func report(_ total: Totals) {
        if options.json {
            let object: [String: Any] = [
                "imported": total.imported, "updated": total.updated, "unchanged": total.unchanged,
                "skipped": total.problems.count,
                "problems": total.problems.map { ["line": $0.line, "reason": $0.reason] as [String: Any] },
            ]
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
            FileHandle.standardOutput.write(data + Data("\n".utf8))
            return
        }
        for problem in total.problems { CommandSupport.printError("line \(problem.line): \(problem.reason)") }
        print(
            "imported \(total.imported), updated \(total.updated), unchanged \(total.unchanged), "
                + "skipped \(total.problems.count)")
    }
}
