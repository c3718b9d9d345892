public import Foundation

/// A UTC instant with millisecond precision, written `2026-11-23T15:30:00.123Z`: the one timestamp format of the
/// log's `at` field, record data and snapshots, and (in whole seconds, `2026-11-23T15:30:00Z`) of the API.
///
/// Transactions run at a millisecond-truncated `now`, so the `Date` a record is applied with while live is
/// bit-for-bit the one recovery parses back from the log.
public struct UTCTimestamp: Hashable, Sendable {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public let milliseconds: Int64

    public init(milliseconds: Int64) {
        self.milliseconds = milliseconds
    }

    /// `date` truncated (towards the past) to the millisecond.
    ///
    /// A value within a microsecond of a whole millisecond snaps to it, so `UTCTimestamp(t.date) == t` despite the
    /// rounding of `Date`'s floating-point storage.
    public init(_ date: Date) {
        let exact = date.timeIntervalSince1970 * 1000
        let nearest = exact.rounded()
        let value = abs(exact - nearest) < 0.001 ? nearest : exact.rounded(.down)
        if value >= Double(Int64.max) {
            milliseconds = Int64.max
        } else if value <= Double(Int64.min) {
            milliseconds = Int64.min
        } else {
            milliseconds = Int64(value)
        }
    }

    /// The instant as a `Date`; the same value for the same milliseconds, always.
    public var date: Date {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    /// The 24 bytes `YYYY-MM-DDTHH:MM:SS.mmmZ` (years outside 0...9999 are clamped).
    public var bytes: [UInt8] {
        let (days, msOfDay) = Self.floorDivide(milliseconds, 86_400_000)
        var (year, month, day) = Self.civil(fromDays: days)
        var ms = msOfDay
        if year < 0 {
            (year, month, day, ms) = (0, 1, 1, 0)
        } else if year > 9999 {
            (year, month, day, ms) = (9999, 12, 31, 86_399_999)
        }
        var out = [UInt8]()
        out.reserveCapacity(24)
        func put(_ value: Int64, _ width: Int) {
            var divisor: Int64 = 1
            for _ in 1..<width { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                out.append(UInt8(ascii: "0") + UInt8(rest / divisor))
                rest %= divisor
                divisor /= 10
            }
        }
        put(year, 4)
        out.append(UInt8(ascii: "-"))
        put(month, 2)
        out.append(UInt8(ascii: "-"))
        put(day, 2)
        out.append(UInt8(ascii: "T"))
        put(ms / 3_600_000, 2)
        out.append(UInt8(ascii: ":"))
        put(ms / 60_000 % 60, 2)
        out.append(UInt8(ascii: ":"))
        put(ms / 1000 % 60, 2)
        out.append(UInt8(ascii: "."))
        put(ms % 1000, 3)
        out.append(UInt8(ascii: "Z"))
        return out
    }

    public var string: String {
        String(decoding: bytes, as: UTF8.self)
    }

    /// `date` in whole seconds (rounded down), as the API writes times: `2026-11-23T15:30:00Z`.
    public static func seconds(_ date: Date) -> String {
        var bytes = UTCTimestamp(date).bytes
        bytes.removeSubrange(19..<23)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction]Z` (fraction of 1 to 9 digits, truncated to milliseconds).
    public init?(parsing text: some StringProtocol) {
        guard let stamp = Array(text.utf8).withUnsafeBufferPointer({ Self(parsing: $0) }) else { return nil }
        self = stamp
    }

    /// Parses the UTF-8 bytes of `YYYY-MM-DDTHH:MM:SS[.fraction]Z`, as ``init(parsing:)-(StringProtocol)`` does.
    public init?(parsing bytes: UnsafeBufferPointer<UInt8>) {
        guard bytes.count >= 20, bytes.last == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int64? {
            var value: Int64 = 0
            for index in range {
                let byte = bytes[index]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: "T"),
            bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
            let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
            (1...12).contains(month), day >= 1, day <= Self.daysIn(month: month, year: year),
            hour < 24, minute < 60, second < 60
        else { return nil }
        var millis: Int64 = 0
        if bytes.count > 20 {
            let fraction = 20..<(bytes.count - 1)
            guard bytes[19] == UInt8(ascii: "."), (1...9).contains(fraction.count), let digits = number(fraction)
            else { return nil }
            var scaled = digits
            if fraction.count < 3 {
                for _ in fraction.count..<3 { scaled *= 10 }
            } else {
                for _ in 3..<fraction.count { scaled /= 10 }
            }
            millis = scaled
        } else if bytes.count != 20 {
            return nil
        }
        let days = Self.days(fromCivil: year, month, day)
        milliseconds = ((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + millis
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
        let quotient = value / divisor
        let remainder = value % divisor
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }

    private static func isLeap(_ year: Int64) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date, counting in 400-year eras that start in March.
    private static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = floorDivide(shiftedYear, 400).0
        let yearOfEra = shiftedYear - era * 400
        let monthFromMarch = (month + 9) % 12
        let dayOfYear = (153 * monthFromMarch + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The inverse of `days(fromCivil:)`.
    private static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let shifted = days + 719_468
        let era = floorDivide(shifted, 146_097).0
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthFromMarch = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthFromMarch + 2) / 5 + 1
        let month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
