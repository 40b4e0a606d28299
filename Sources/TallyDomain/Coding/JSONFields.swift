import Foundation

/// Reads the fields of one flat JSON object, with errors that name the field.
struct JSONFields {
    private let object: [String: Any]
    private let flat: FlatJSON?
    private let type: String

    init(_ bytes: [UInt8], type: String) throws(Rejection) {
        self.type = type
        if let flat = FlatJSON.parse(bytes) {
            self.flat = flat
            self.object = [:]
            return
        }
        self.flat = nil
        guard
            let parsed = try? JSONSerialization.jsonObject(with: Data(bytes)),
            let object = parsed as? [String: Any]
        else {
            throw Rejection(.invalidField, "the payload of a \(type) event is not a JSON object")
        }
        self.object = object
    }

    func optionalString(_ key: String) throws(Rejection) -> String? {
        if let flat = self.flat {
            switch flat[key] {
            case nil, .null: return nil
            case .string(let value): return value
            case .strings: throw self.bad(key, "a string")
            }
        }
        guard let value = self.object[key], !(value is NSNull) else { return nil }
        guard let string = value as? String else { throw self.bad(key, "a string") }
        return string
    }

    func string(_ key: String) throws(Rejection) -> String {
        guard let value = try self.optionalString(key) else { throw self.bad(key, "present") }
        return value
    }

    func id(_ key: String) throws(Rejection) -> DomainID {
        try DomainID(try self.string(key), field: key)
    }

    func optionalID(_ key: String) throws(Rejection) -> DomainID? {
        guard let raw = try self.optionalString(key) else { return nil }
        return try DomainID(raw, field: key)
    }

    func optionalDigits(_ key: String) throws(Rejection) -> UInt64? {
        guard let raw = try self.optionalString(key) else { return nil }
        guard let value = UInt64(raw) else { throw self.bad(key, "a string of digits") }
        return value
    }

    func digits(_ key: String) throws(Rejection) -> UInt64 {
        guard let value = try self.optionalDigits(key) else { throw self.bad(key, "present") }
        return value
    }

    func strings(_ key: String) throws(Rejection) -> [String] {
        if let flat = self.flat {
            switch flat[key] {
            case nil, .null: return []
            case .strings(let values): return values
            case .string: throw self.bad(key, "a list of strings")
            }
        }
        guard let value = self.object[key] else { return [] }
        guard let strings = value as? [String] else { throw self.bad(key, "a list of strings") }
        return strings
    }

    private func bad(_ key: String, _ expectation: String) -> Rejection {
        Rejection(.invalidField, "field \(key) of a \(self.type) event must be \(expectation)")
    }
}
