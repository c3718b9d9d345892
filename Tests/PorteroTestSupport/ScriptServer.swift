public import Foundation

/// A test peer written in Python (an SMTP sink, an HTTP listener), run from a script file in a test directory.
///
/// The script gets the ready-file path as its first argument and writes it (atomically) once it listens; it stops
/// when its standard input reaches end of file, so it also ends if the test process dies. `stop()` closes that
/// input, then terminates and reaps it.
public final class ScriptServer {
    public let process = Process()
    private let input = Pipe()
    public let readyFile: String
    public let logFile: String

    /// Writes `script` as `name` into `directory`, starts it with `arguments` after the ready-file path, and waits
    /// for the ready file; returns its contents (e.g. the port) through `ready`.
    public init(script: String, name: String, arguments: [String], in directory: TestDirectory) async throws {
        let scriptPath = try directory.write(name, script)
        readyFile = directory.file("\(name).ready")
        logFile = directory.file("\(name).log")
        _ = FileManager.default.createFile(atPath: logFile, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logFile))
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-u", scriptPath, readyFile] + arguments
        process.standardInput = input
        process.standardOutput = log
        process.standardError = log
        try process.run()
        try? log.close()
        // Generous: importing aiosmtpd on a loaded 2-core machine can take many seconds.
        let started = await waitUntil(timeout: .seconds(60)) {
            FileManager.default.fileExists(atPath: readyFile) || !process.isRunning
        }
        guard started, FileManager.default.fileExists(atPath: readyFile) else {
            let output = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
            stop()
            throw ScriptServerError(message: "\(name) did not start: \(output)")
        }
    }

    /// The ready file's contents, trimmed.
    public var ready: String {
        ((try? String(contentsOfFile: readyFile, encoding: .utf8)) ?? "").trimmingCharacters(
            in: .whitespacesAndNewlines)
    }

    public func stop() {
        try? input.fileHandleForWriting.close()
        if process.isRunning {
            process.terminate()
        }
        process.waitUntilExit()
    }
}

public struct ScriptServerError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
