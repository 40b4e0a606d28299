import TallyDomain
import HTTPTypes

/// The fields of one JSON object in a request, read with the JSON path of each field, so a
/// wrong or missing field is refused with a problem that names it (`$.transfers[2].amount`).
package struct JSONObject {
    package let fields: [String: JSONValue]
    /// This object's JSON path.
    package let path: String

    package init(_ value: JSONValue, path: String = "$") throws(APIProblem) {
        guard case .object(let pairs) = value.kind else {
            throw APIProblem.malformed("\(path) must be an object, not \(value.kindName)", at: path)
        }
        var fields: [String: JSONValue] = [:]
        for (key, value) in pairs {
            guard fields.updateValue(value, forKey: key) == nil else {
                throw APIProblem.malformed("\(path) has the key \"\(key)\" twice", at: path)
            }
        }
        self.fields = fields
        self.path = path
    }

    package func pointer(_ key: String) -> String { "\(self.path).\(key)" }

    /// Refuses keys outside `known`, so a misspelt optional field is not silently ignored.
    package func allowOnly(_ known: Set<String>) throws(APIProblem) {
        for key in self.fields.keys where !known.contains(key) {
            throw APIProblem.malformed(
                "\(self.path) has an unknown field \"\(key)\"; the fields are \(known.sorted().joined(separator: ", "))",
                at: self.pointer(key))
        }
    }

    package func value(_ key: String) -> JSONValue? {
        guard let value = self.fields[key] else { return nil }
        if case .null = value.kind { return nil }
        return value
    }

    package func string(_ key: String) throws(APIProblem) -> String? {
        guard let value = self.value(key) else { return nil }
        guard case .string(let text) = value.kind else {
            throw APIProblem.malformed("\(self.pointer(key)) must be a string, not \(value.kindName)", at: self.pointer(key))
        }
        return text
    }

    package func requiredString(_ key: String) throws(APIProblem) -> String {
        guard let text = try self.string(key) else {
            throw APIProblem.malformed("\(self.pointer(key)) is required", at: self.pointer(key))
        }
        return text
    }

    func bool(_ key: String) throws(APIProblem) -> Bool? {
        guard let value = self.value(key) else { return nil }
        guard case .bool(let flag) = value.kind else {
            throw APIProblem.malformed("\(self.pointer(key)) must be true or false, not \(value.kindName)", at: self.pointer(key))
        }
        return flag
    }

    /// An unsigned integer given as a string of digits (the API's form for amounts) or as a
    /// JSON integer.
    func uint64(_ key: String) throws(APIProblem) -> UInt64? {
        guard let value = self.value(key) else { return nil }
        let text: String
        switch value.kind {
        case .string(let digits): text = digits
        case .number(let digits):
            // JSON Schema counts 6304.0 as an integer; so does the API (not 6304.5, not 6.3e3).
            if let dot = digits.firstIndex(of: "."), digits[digits.index(after: dot)...].allSatisfy({ $0 == "0" }) {
                text = String(digits[..<dot])
            } else {
                text = digits
            }
        default:
            throw APIProblem.malformed(
                "\(self.pointer(key)) must be a string of digits, not \(value.kindName)", at: self.pointer(key))
        }
        guard !text.isEmpty, text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }), let number = UInt64(text)
        else {
            throw APIProblem.malformed(
                "\(self.pointer(key)) must be a whole number from 0 to 18446744073709551615 written in digits, not \(text)",
                at: self.pointer(key))
        }
        return number
    }

    func requiredUInt64(_ key: String) throws(APIProblem) -> UInt64 {
        guard let number = try self.uint64(key) else {
            throw APIProblem.malformed("\(self.pointer(key)) is required", at: self.pointer(key))
        }
        return number
    }

    package func object(_ key: String) throws(APIProblem) -> JSONObject? {
        guard let value = self.value(key) else { return nil }
        return try JSONObject(value, path: self.pointer(key))
    }

    func array(_ key: String) throws(APIProblem) -> [JSONValue]? {
        guard let value = self.value(key) else { return nil }
        guard case .array(let items) = value.kind else {
            throw APIProblem.malformed("\(self.pointer(key)) must be an array, not \(value.kindName)", at: self.pointer(key))
        }
        return items
    }

    func requiredArray(_ key: String) throws(APIProblem) -> [JSONValue] {
        guard let items = try self.array(key) else {
            throw APIProblem.malformed("\(self.pointer(key)) is required", at: self.pointer(key))
        }
        return items
    }

    /// A domain id (account, agent, transfer, deployment…), validated by the domain.
    func id(_ key: String) throws(APIProblem) -> DomainID? {
        guard let text = try self.string(key) else { return nil }
        do throws(Rejection) { return try DomainID(text, field: key) } catch { throw APIProblem.invalidField(error.message, at: self.pointer(key)) }
    }

    func requiredID(_ key: String) throws(APIProblem) -> DomainID {
        guard let id = try self.id(key) else { throw APIProblem.malformed("\(self.pointer(key)) is required", at: self.pointer(key)) }
        return id
    }

    func currency(_ key: String) throws(APIProblem) -> Currency {
        let text = try self.requiredString(key)
        do throws(Rejection) { return try Currency(text) } catch { throw APIProblem(.badRequest, error.code.rawValue, error.message, pointer: self.pointer(key)) }
    }
}
