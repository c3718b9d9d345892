/// The profile fields a user may set (register, `PATCH /profile`), trimmed and checked: a name of at most 200
/// characters, a phone number of digits, spaces and `+ - ( ) .`, at most 32 characters. An empty string clears a
/// field on update.
public struct ProfileFields: Sendable, Equatable {
    public private(set) var name: String?
    public private(set) var phone: String?

    /// Checks raw values; the problems are by field name (`name`, `phone`), empty when both are good.
    public static func validate(name rawName: String?, phone rawPhone: String?) -> (
        fields: ProfileFields, problems: [String: String]
    ) {
        var problems: [String: String] = [:]
        let name = rawName.map { $0.trimmingSpaces() }
        if let name, name.unicodeScalars.count > 200 { problems["name"] = "must be at most 200 characters" }
        let phone = rawPhone.map { $0.trimmingSpaces() }
        if let phone, !phone.isEmpty {
            let allowed = phone.unicodeScalars.allSatisfy { scalar in
                (scalar.value >= 0x30 && scalar.value <= 0x39) || " +-().".unicodeScalars.contains(scalar)
            }
            if !allowed || phone.count > 32 {
                problems["phone"] = "must be a phone number (digits, spaces, + - ( ) .), at most 32 characters"
            }
        }
        return (ProfileFields(name: name, phone: phone), problems)
    }

    /// No change.
    public static let none = ProfileFields(name: nil, phone: nil)

    var isEmpty: Bool { name == nil && phone == nil }

    /// The values for a new account: empty means absent.
    var nameForNewUser: String? { name.flatMap { $0.isEmpty ? nil : $0 } }
    var phoneForNewUser: String? { phone.flatMap { $0.isEmpty ? nil : $0 } }
}

extension String {
    /// Without leading and trailing spaces and tabs.
    public func trimmingSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        return String(self.drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}
