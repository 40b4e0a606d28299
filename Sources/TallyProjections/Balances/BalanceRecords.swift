import Foundation
import TallyLMDB

/// An account's balances as the projection keeps them.
public struct AccountBalance: Sendable, Equatable {
    public var currency: String
    public var debitsPosted: UInt64 = 0
    public var creditsPosted: UInt64 = 0
    public var debitsPending: UInt64 = 0
    public var creditsPending: UInt64 = 0

    /// Credits minus debits, posted.
    public var balance: Int128 { Int128(self.creditsPosted) - Int128(self.debitsPosted) }

    init(currency: String) { self.currency = currency }

    init?(_ bytes: [UInt8]) {
        guard bytes.count >= 32 else { return nil }
        let words = (0..<4).map { index in bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self).littleEndian } }
        self.debitsPosted = words[0]
        self.creditsPosted = words[1]
        self.debitsPending = words[2]
        self.creditsPending = words[3]
        self.currency = String(decoding: bytes[32...], as: UTF8.self)
    }

    var encoded: [UInt8] {
        var bytes: [UInt8] = []
        for word in [self.debitsPosted, self.creditsPosted, self.debitsPending, self.creditsPending] {
            withUnsafeBytes(of: word.littleEndian) { bytes.append(contentsOf: $0) }
        }
        bytes.append(contentsOf: self.currency.utf8)
        return bytes
    }
}

/// One posting on an account's statement, with the balances right after it.
public struct StatementLine: Sendable, Equatable {
    public var position: UInt64
    public var transfer: String
    public var isDebit: Bool
    public var amount: UInt64
    public var debitsPosted: UInt64
    public var creditsPosted: UInt64
    public var recordedAt: UInt64

    /// The balance right after this line.
    public var balanceAfter: Int128 { Int128(self.creditsPosted) - Int128(self.debitsPosted) }

    static func key(account: String, position: UInt64) -> [UInt8] {
        var key = Array(account.utf8)
        key.append(0)
        withUnsafeBytes(of: position.bigEndian) { key.append(contentsOf: $0) }
        return key
    }

    var encoded: [UInt8] {
        let transfer = self.transfer.utf8
        return [UInt8](unsafeUninitializedCapacity: 33 + transfer.count) { buffer, count in
            buffer[0] = self.isDebit ? 0 : 1
            let raw = UnsafeMutableRawBufferPointer(buffer)
            for (index, word) in [self.amount, self.debitsPosted, self.creditsPosted, self.recordedAt].enumerated() {
                raw.storeBytes(of: word.littleEndian, toByteOffset: 1 + index * 8, as: UInt64.self)
            }
            count = 33 + (UnsafeMutableBufferPointer(rebasing: buffer[33...]).initialize(from: transfer).1)
        }
    }

    init(position: UInt64, transfer: String, isDebit: Bool, amount: UInt64, debitsPosted: UInt64, creditsPosted: UInt64, recordedAt: UInt64) {
        self.position = position
        self.transfer = transfer
        self.isDebit = isDebit
        self.amount = amount
        self.debitsPosted = debitsPosted
        self.creditsPosted = creditsPosted
        self.recordedAt = recordedAt
    }

    init?(position: UInt64, _ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= 33 else { return nil }
        self.position = position
        self.isDebit = bytes[0] == 0
        self.amount = bytes.loadUnaligned(fromByteOffset: 1, as: UInt64.self).littleEndian
        self.debitsPosted = bytes.loadUnaligned(fromByteOffset: 9, as: UInt64.self).littleEndian
        self.creditsPosted = bytes.loadUnaligned(fromByteOffset: 17, as: UInt64.self).littleEndian
        self.recordedAt = bytes.loadUnaligned(fromByteOffset: 25, as: UInt64.self).littleEndian
        self.transfer = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[33...]), as: UTF8.self)
    }
}

extension ViewStore {
    /// An account's balances as the balances projection has them.
    public func balance(of account: String) throws -> AccountBalance? {
        try self.read { txn in
            try Array(account.utf8).withUnsafeBytes { key in
                try txn.get(self.database("balances.accounts", txn), key: key).flatMap { AccountBalance(Array($0)) }
            }
        }
    }

    /// The statement line in effect at `position` (the last posting at or before it), or `nil`.
    public func statementLine(of account: String, atPosition position: UInt64) throws -> StatementLine? {
        try self.read { txn in
            try txn.withCursor(self.database("balances.statements", txn)) { cursor throws -> StatementLine? in
                let probe = StatementLine.key(account: account, position: position == .max ? position : position + 1)
                let after = try probe.withUnsafeBytes { key in try cursor.seek(atLeast: key) }
                let candidate = after == nil ? try cursor.last() : try cursor.previous()
                return try Self.line(candidate, account: account, atMost: position)
            }
        }
    }

    /// Statement lines of `account` from `position` on, at most `limit`.
    public func statement(of account: String, fromPosition position: UInt64 = 1, limit: Int = 100) throws -> [StatementLine] {
        try self.read { txn in
            try txn.withCursor(self.database("balances.statements", txn)) { cursor throws -> [StatementLine] in
                var lines: [StatementLine] = []
                var entry = try StatementLine.key(account: account, position: position).withUnsafeBytes { key in try cursor.seek(atLeast: key) }
                while lines.count < limit, let line = try Self.line(entry, account: account, atMost: .max) {
                    lines.append(line)
                    entry = try cursor.next()
                }
                return lines
            }
        }
    }

    private static func line(_ entry: Cursor.Entry?, account: String, atMost position: UInt64) throws -> StatementLine? {
        guard let entry else { return nil }
        let prefix = Array(account.utf8) + [0]
        guard entry.key.count == prefix.count + 8, entry.key.prefix(prefix.count).elementsEqual(prefix) else { return nil }
        let linePosition = entry.key.loadUnaligned(fromByteOffset: prefix.count, as: UInt64.self).bigEndian
        guard linePosition <= position else { return nil }
        return StatementLine(position: linePosition, entry.value)
    }
}
