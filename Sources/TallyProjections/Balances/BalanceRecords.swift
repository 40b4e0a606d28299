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

    init(position: UInt64, transfer: String, isDebit: Bool, amount: UInt64, debitsPosted: UInt64, creditsPosted: UInt64, recordedAt: UInt64) {
        self.position = position
        self.transfer = transfer
        self.isDebit = isDebit
        self.amount = amount
        self.debitsPosted = debitsPosted
        self.creditsPosted = creditsPosted
        self.recordedAt = recordedAt
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
            let statements = try self.database("balances.statements", txn)
            return try txn.withCursor(self.database("balances.chunks", txn)) { index throws -> StatementLine? in
                // The chunk holding it is the last one that starts at or before `position`.
                let probe = StatementChunk.indexKey(account: account.utf8, first: position == .max ? position : position + 1)
                let after = try probe.withUnsafeBytes { key in try index.seek(atLeast: key) }
                guard let entry = after == nil ? try index.last() : try index.previous(),
                    let first = StatementChunk.firstPosition(entry.key, account: account), first <= position
                else { return nil }
                var found: StatementLine?
                try Self.forEachLine(txn, statements, account: account, first: first) { line in
                    guard line.position <= position else { return false }
                    found = line
                    return true
                }
                return found
            }
        }
    }

    /// Statement lines of `account` from `position` on, at most `limit`.
    public func statement(of account: String, fromPosition position: UInt64 = 1, limit: Int = 100) throws -> [StatementLine] {
        try self.read { txn in
            let statements = try self.database("balances.statements", txn)
            return try txn.withCursor(self.database("balances.chunks", txn)) { index throws -> [StatementLine] in
                var lines: [StatementLine] = []
                guard limit > 0 else { return lines }
                // Start at the chunk that holds `position` (one that starts before it may),
                // else at the first that starts after it.
                let probe = StatementChunk.indexKey(account: account.utf8, first: position == .max ? position : position + 1)
                var entry = try probe.withUnsafeBytes { key in try index.seek(atLeast: key) }
                let before = entry == nil ? try index.last() : try index.previous()
                if let before, StatementChunk.firstPosition(before.key, account: account) != nil {
                    entry = before
                } else {
                    entry = try probe.withUnsafeBytes { key in try index.seek(atLeast: key) }
                }
                while lines.count < limit, let current = entry, let first = StatementChunk.firstPosition(current.key, account: account) {
                    try Self.forEachLine(txn, statements, account: account, first: first) { line in
                        if line.position >= position { lines.append(line) }
                        return lines.count < limit
                    }
                    entry = try index.next()
                }
                return lines
            }
        }
    }

    /// Calls `body` with the lines of one chunk until it returns `false`.
    private static func forEachLine(
        _ txn: borrowing ReadTransaction, _ statements: Database, account: String, first: UInt64, _ body: (StatementLine) -> Bool
    ) throws {
        let key = StatementChunk.dataKey(account: account.utf8, first: first)
        let chunk = try key.withUnsafeBytes { key in try txn.get(statements, key: key) }
        guard let chunk, StatementChunk.forEachLine(chunk, body) != nil else {
            throw ProjectionError(
                position: first,
                message: "the statement chunk of account \(account) from position \(first) is missing or malformed in the view; rebuild it with tally replay --projection balances")
        }
    }
}
