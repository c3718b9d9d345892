// Durable writes per second and acknowledgement latency of FileStore, with group commit on and off.
//
//     swift run -c release portero-store-bench [--dir PATH] [--seconds N] [--writers 1,8,64]
//
// Each run opens a fresh store in a new directory under --dir (default: the temporary directory), runs N writer
// tasks that each write one record per transaction for --seconds, and reports what was acknowledged.
import Foundation
import Glibc
import Logging
import PorteroCore
import PorteroStore

struct Options {
    var directory = FileManager.default.temporaryDirectory.path
    var seconds = 3.0
    var writers = [1, 8, 64]

    init(_ arguments: [String]) throws {
        var rest = arguments.dropFirst()
        while let flag = rest.popFirst() {
            guard let value = rest.popFirst() else { throw UsageError(message: "\(flag) needs a value") }
            switch flag {
            case "--dir": directory = value
            case "--seconds":
                guard let number = Double(value), number > 0 else { throw UsageError(message: "bad --seconds") }
                seconds = number
            case "--writers":
                let counts = value.split(separator: ",").compactMap { Int($0) }
                guard !counts.isEmpty, counts.allSatisfy({ $0 > 0 }) else {
                    throw UsageError(message: "bad --writers")
                }
                writers = counts
            default: throw UsageError(message: "unknown flag \(flag)")
            }
        }
    }
}

struct UsageError: Error, CustomStringConvertible {
    let message: String
    var description: String {
        "\(message)\nusage: portero-store-bench [--dir PATH] [--seconds N] [--writers 1,8,64]"
    }
}

struct RunResult {
    let groupCommit: Bool
    let writers: Int
    let writes: Int
    let seconds: Double
    let syncs: Int
    let latencies: [Duration]

    var perSecond: Double { Double(writes) / seconds }

    func percentile(_ fraction: Double) -> Double {
        guard !latencies.isEmpty else { return 0 }
        let index = min(latencies.count - 1, Int((Double(latencies.count) * fraction).rounded(.up)) - 1)
        return milliseconds(latencies[max(0, index)])
    }

    private func milliseconds(_ duration: Duration) -> Double {
        let parts = duration.components
        return Double(parts.seconds) * 1000 + Double(parts.attoseconds) / 1e15
    }
}

/// The type of the filesystem holding `path`, from the longest matching mount point in /proc/self/mounts.
func filesystemName(_ path: String) -> String {
    let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
    guard let mounts = try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8) else { return "unknown" }
    var best: (point: String, type: String) = ("", "unknown")
    for line in mounts.split(separator: "\n") {
        let fields = line.split(separator: " ")
        guard fields.count >= 3 else { continue }
        let point = String(fields[1])
        let inside = point == "/" || resolved == point || resolved.hasPrefix(point + "/")
        if inside, point.count >= best.point.count {
            best = (point, String(fields[2]))
        }
    }
    return best.type
}

func run(groupCommit: Bool, writers: Int, options: Options, logger: Logger) async throws -> RunResult {
    let directory =
        options.directory + "/portero-store-bench-\(getpid())-\(groupCommit ? "group" : "single")-\(writers)"
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let store = try await FileStore<BenchState>.open(
        directory: directory,
        configuration: FileStoreConfiguration(snapshotEveryRecords: .max, groupCommit: groupCommit),
        logger: logger
    )
    let payload = String(repeating: "x", count: 160)
    // Warm up: one write to have the segment and page cache in place.
    try await store.write { $0.append(BenchRecord(key: "warmup", value: payload)) }
    let syncsBefore = await store.syncCount
    let clock = ContinuousClock()
    let start = clock.now
    let deadline = start + .milliseconds(Int(options.seconds * 1000))
    let latencies = try await withThrowingTaskGroup(of: [Duration].self) { group in
        for writer in 0..<writers {
            group.addTask {
                var mine: [Duration] = []
                var count = 0
                while clock.now < deadline {
                    let began = clock.now
                    try await store.write { transaction in
                        transaction.append(BenchRecord(key: "w\(writer)-\(count % 100)", value: payload))
                    }
                    mine.append(began.duration(to: clock.now))
                    count += 1
                }
                return mine
            }
        }
        var all: [Duration] = []
        for try await mine in group {
            all.append(contentsOf: mine)
        }
        return all
    }
    let elapsed = start.duration(to: clock.now)
    let syncs = await store.syncCount - syncsBefore
    await store.close(snapshot: false)
    let parts = elapsed.components
    return RunResult(
        groupCommit: groupCommit,
        writers: writers,
        writes: latencies.count,
        seconds: Double(parts.seconds) + Double(parts.attoseconds) / 1e18,
        syncs: syncs,
        latencies: latencies.sorted()
    )
}

do {
    let options = try Options(CommandLine.arguments)
    var logger = Logger(label: "portero.store.bench")
    logger.logLevel = .warning
    print(
        "FileStore durable writes: \(options.seconds) s per run, directory \(options.directory) "
            + "(\(filesystemName(options.directory))), \(ProcessInfo.processInfo.activeProcessorCount) cores"
    )
    var results: [RunResult] = []
    for groupCommit in [true, false] {
        for writers in options.writers {
            results.append(try await run(groupCommit: groupCommit, writers: writers, options: options, logger: logger))
        }
    }
    print("")
    print("| mode | writers | writes/s | p50 ms | p99 ms | records/fsync |")
    print("|---|---:|---:|---:|---:|---:|")
    for result in results {
        let mode = result.groupCommit ? "group commit" : "one fsync per write"
        print(
            String(
                format: "| %@ | %d | %.0f | %.2f | %.2f | %.1f |",
                mode,
                result.writers,
                result.perSecond,
                result.percentile(0.50),
                result.percentile(0.99),
                Double(result.writes) / Double(max(1, result.syncs))
            )
        )
    }
    let most = options.writers.max() ?? 64
    if let grouped = results.first(where: { $0.groupCommit && $0.writers == most }),
        let single = results.first(where: { !$0.groupCommit && $0.writers == most }), single.perSecond > 0
    {
        print("")
        print(
            String(
                format: "at %d writers: group commit %.0f writes/s = %.1fx one fsync per write (%.0f writes/s); "
                    + "p99 %.2f ms",
                most,
                grouped.perSecond,
                grouped.perSecond / single.perSecond,
                single.perSecond,
                grouped.percentile(0.99)
            )
        )
    }
} catch {
    FileHandle.standardError.write(Data("portero-store-bench: \(error)\n".utf8))
    exit(1)
}
