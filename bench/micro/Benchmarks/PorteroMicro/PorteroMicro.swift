import Benchmark
import Foundation
import PorteroCore
import PorteroStore

// Figures are per operation: time, operations per second, mallocs. Operations well under a microsecond (CRC-32C of a
// line, applying a record) run 1,000 times per sample (`.kilo`), so the clock's own cost does not count; the others
// (tens of microseconds) once per sample, for many samples.
// `make bench-micro` runs them; bench/README.md says how to keep a baseline and compare a change against it.

/// The size of the input (CRC-32C) or of the line (encode, read back), so a table says what it measured.
let lineBytes = BenchmarkMetric.custom("Line bytes", polarity: .prefersSmaller, useScalingFactor: false)
/// No `.cpuTotal`: it reads in 10 ms steps here and mallocs 16 times a sample itself, which would count as the code's.
let timeAndMallocs: [BenchmarkMetric] = [.wallClock, .throughput, .mallocCountTotal]

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: timeAndMallocs,
        warmupIterations: 3,
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 1_000,
        // What `baseline check` calls a change: times and throughput beyond 25 % at the median (a shared machine
        // moves them by more than the package's default 5 %), any change in the median malloc count.
        thresholds: [
            .wallClock: BenchmarkThresholds(relative: BenchmarkThresholds.Relative.relaxed),
            .throughput: BenchmarkThresholds(relative: BenchmarkThresholds.Relative.relaxed),
            .mallocCountTotal: BenchmarkThresholds(absolute: [.p50: 0]),
        ]
    )

    // One operation per sample, up to 10,000 samples in the default 2 seconds.
    let perCall = Benchmark.Configuration(metrics: timeAndMallocs, scalingFactor: .one, maxIterations: 10_000)
    // The same, with the line's size in the table.
    let perLine = Benchmark.Configuration(
        metrics: timeAndMallocs + [lineBytes], scalingFactor: .one, maxIterations: 10_000)

    // MARK: Tokens — the check every protected route makes, and the signing of login and /refresh.
    // One call per sample: a sample of 1,000 calls (tens of milliseconds) on a shared machine also waits for other
    // processes (a check read 118 µs that way, 26 µs alone). The harness's own call of the async body mallocs about
    // 4 times per sample, so these rows count 4 more than the token service does (46 against 42 at 1,000 a sample).

    for algorithm in [SigningKey.Algorithm.hs256, .eddsa] {
        Benchmark("Token verify \(algorithm.rawValue) (access token)", configuration: perCall) {
            (benchmark, fixtures: Fixtures) in
            for _ in benchmark.scaledIterations {
                blackHole(try await fixtures.tokens.verifyAccessToken(fixtures.accessToken, now: fixtures.now))
            }
        } setup: {
            try await Fixtures.make(algorithm: algorithm, population: 1)
        }

        Benchmark("Token issue \(algorithm.rawValue) (access token)", configuration: perCall) {
            (benchmark, fixtures: Fixtures) in
            let user = fixtures.user
            for _ in benchmark.scaledIterations {
                blackHole(
                    try fixtures.tokens.issueAccessToken(
                        userID: user.id, sessionID: fixtures.session.id, email: user.email,
                        emailVerified: user.emailVerified, roles: user.roles, now: fixtures.now))
            }
        } setup: {
            try await Fixtures.make(algorithm: algorithm, population: 1)
        }
    }

    // MARK: Store apply — what every durable record costs the state, twice per write and once per replayed record.

    Benchmark("Apply user.registered (10k users)") { (benchmark, input: RecordsInput) in
        let (fixtures, records) = (input.fixtures, input.records)
        var state = fixtures.state
        // The first change copies the shared state's tables (copy-on-write of a value type): not measured.
        state.apply(records[0], seq: 1, at: fixtures.now)
        benchmark.startMeasurement()
        for index in benchmark.scaledIterations {
            state.apply(records[index + 1], seq: UInt64(index + 2), at: fixtures.now)
        }
        benchmark.stopMeasurement()
        blackHole(state)
    } setup: {
        let fixtures = try await Fixtures.make()
        let hash = fixtures.user.passwordHash
        let records = (0...1_000).map { index in
            AuthRecord.userRegistered(Fixtures.makeUser(index: 10_000 + index, hash: hash, now: fixtures.now))
        }
        return RecordsInput(fixtures: fixtures, records: records)
    }

    Benchmark("Apply session.rotated (10k sessions)") { (benchmark, input: RecordsInput) in
        let (fixtures, records) = (input.fixtures, input.records)
        var state = fixtures.state
        state.apply(records[0], seq: 1, at: fixtures.now)
        benchmark.startMeasurement()
        for index in benchmark.scaledIterations {
            state.apply(records[index + 1], seq: UInt64(index + 2), at: fixtures.now)
        }
        benchmark.stopMeasurement()
        blackHole(state)
    } setup: {
        let fixtures = try await Fixtures.make()
        return RecordsInput(fixtures: fixtures, records: (0...1_000).map { fixtures.rotation(at: TimeInterval($0)) })
    }

    // MARK: CRC-32C — over every line written and read, and over whole snapshots.

    Benchmark("CRC32C user.registered line", configuration: .init(metrics: timeAndMallocs + [lineBytes])) {
        (benchmark, line: [UInt8]) in
        line.withUnsafeBytes { bytes in
            for _ in benchmark.scaledIterations {
                blackHole(StoreLogCodec.crc32c(bytes))
            }
        }
        benchmark.measurement(lineBytes, line.count)
    } setup: {
        let fixtures = try await Fixtures.make(population: 1)
        return try fixtures.logLine(.userRegistered(fixtures.user)).bytes
    }

    Benchmark(
        "CRC32C 64 KiB",
        configuration: perCall
    ) { (benchmark, block: [UInt8]) in
        block.withUnsafeBytes { bytes in
            for _ in benchmark.scaledIterations {
                blackHole(StoreLogCodec.crc32c(bytes))
            }
        }
    } setup: {
        Secrets.randomBytes(64 * 1024)
    }

    // MARK: Log lines — encoding a record as a commit writes it, reading one back at replay.

    Benchmark("Encode user.registered line", configuration: perLine) {
        (benchmark, input: RecordsInput) in
        let (fixtures, record) = (input.fixtures, input.records[0])
        var out: [UInt8] = []
        out.reserveCapacity(1_024)
        for _ in benchmark.scaledIterations {
            out.removeAll(keepingCapacity: true)
            try StoreLogCodec.appendLines([record], firstSeq: 1_000_001, at: fixtures.now, to: &out)
            blackHole(out)
        }
        benchmark.measurement(lineBytes, out.count)
    } setup: {
        let fixtures = try await Fixtures.make(population: 1)
        return RecordsInput(fixtures: fixtures, records: [.userRegistered(fixtures.user)])
    }

    Benchmark("Encode session.rotated line", configuration: perLine) {
        (benchmark, input: RecordsInput) in
        let (fixtures, record) = (input.fixtures, input.records[0])
        var out: [UInt8] = []
        out.reserveCapacity(1_024)
        for _ in benchmark.scaledIterations {
            out.removeAll(keepingCapacity: true)
            try StoreLogCodec.appendLines([record], firstSeq: 1_000_001, at: fixtures.now, to: &out)
            blackHole(out)
        }
        benchmark.measurement(lineBytes, out.count)
    } setup: {
        let fixtures = try await Fixtures.make(population: 1)
        return RecordsInput(fixtures: fixtures, records: [fixtures.rotation(at: 60)])
    }

    Benchmark("Read user.registered line (replay)", configuration: perLine) {
        (benchmark, line: LogLine) in
        for _ in benchmark.scaledIterations {
            blackHole(try StoreLogCodec.readLine(line.bytes, line.range, as: AuthRecord.self))
        }
        benchmark.measurement(lineBytes, line.bytes.count)
    } setup: {
        let fixtures = try await Fixtures.make(population: 1)
        return try fixtures.logLine(.userRegistered(fixtures.user))
    }

    Benchmark("Read session.rotated line (replay)", configuration: perLine) {
        (benchmark, line: LogLine) in
        for _ in benchmark.scaledIterations {
            blackHole(try StoreLogCodec.readLine(line.bytes, line.range, as: AuthRecord.self))
        }
        benchmark.measurement(lineBytes, line.bytes.count)
    } setup: {
        let fixtures = try await Fixtures.make(population: 1)
        return try fixtures.logLine(fixtures.rotation(at: 60))
    }
}

/// The fixtures and the records a benchmark applies or encodes.
struct RecordsInput: Sendable {
    let fixtures: Fixtures
    let records: [AuthRecord]
}
