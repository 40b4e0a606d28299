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

/// How the balances projection stores statement lines: a batch's lines of one account, in
/// chunks of at most ``bytesMax`` bytes, each chunk in `balances.statements` under the
/// position of its first line (u64 big-endian) ‖ account id, so that every batch appends
/// its chunks at the end of that tree, and an entry account id ‖ 0x00 ‖ first position in
/// `balances.chunks` to find them by account. Each line: position u64 | 0 debit, 1 credit | amount u64 | debits posted u64 | credits
/// posted u64 | recorded-at u64 | transfer id length u8 | transfer id (integers
/// little-endian; 42 bytes + the id). Chunks stay well under LMDB's in-leaf value limit
/// (about half a page), so appended chunks fill whole pages.
enum StatementChunk {
    /// The most bytes a chunk grows to (one line may start a chunk of any size).
    static let bytesMax = 1_024
    static let fixedBytes = 42

    /// The `balances.chunks` key of the chunk of `account` whose first line is at `first`.
    static func indexKey(account: some Collection<UInt8>, first: UInt64) -> [UInt8] {
        var key = Array(account)
        key.append(0)
        withUnsafeBytes(of: first.bigEndian) { key.append(contentsOf: $0) }
        return key
    }

    /// The `balances.statements` key of that chunk.
    static func dataKey(account: some Collection<UInt8>, first: UInt64) -> [UInt8] {
        var key: [UInt8] = []
        key.reserveCapacity(8 + account.count)
        withUnsafeBytes(of: first.bigEndian) { key.append(contentsOf: $0) }
        key += account
        return key
    }

    /// The first position of the chunk whose `balances.chunks` key is `key` if it is one of
    /// `account`'s, else `nil`.
    static func firstPosition(_ key: UnsafeRawBufferPointer, account: String) -> UInt64? {
        let prefix = account.utf8
        guard key.count == prefix.count + 9, key[prefix.count] == 0, key.prefix(prefix.count).elementsEqual(prefix) else { return nil }
        return key.loadUnaligned(fromByteOffset: prefix.count + 1, as: UInt64.self).bigEndian
    }

    /// Appends a line, encoded, to `lines`.
    static func append(
        position: UInt64, isDebit: Bool, amount: UInt64, debitsPosted: UInt64, creditsPosted: UInt64, recordedAt: UInt64,
        transfer id: UnsafeRawBufferPointer, to lines: inout [UInt8]
    ) {
        // The fixed part is put together on the stack and appended with the id: two copies
        // into the array, no zero fill.
        var fixed: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &fixed) { raw in
            raw.storeBytes(of: position.littleEndian, toByteOffset: 0, as: UInt64.self)
            raw[8] = isDebit ? 0 : 1
            raw.storeBytes(of: amount.littleEndian, toByteOffset: 9, as: UInt64.self)
            raw.storeBytes(of: debitsPosted.littleEndian, toByteOffset: 17, as: UInt64.self)
            raw.storeBytes(of: creditsPosted.littleEndian, toByteOffset: 25, as: UInt64.self)
            raw.storeBytes(of: recordedAt.littleEndian, toByteOffset: 33, as: UInt64.self)
            raw[41] = UInt8(clamping: id.count)  // ids are at most 64 bytes (DomainID)
            lines.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[..<Self.fixedBytes]))
        }
        lines.append(contentsOf: id)
    }

    /// The bytes of the line encoded at `offset` of `lines` (by ``append(_:to:)``).
    static func line(in lines: UnsafeRawBufferPointer, at offset: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: lines[offset..<(offset + Self.fixedBytes + Int(lines[offset + 41]))])
    }

    /// Calls `body` with each line of `chunk` in order until it returns `false`; `nil` when
    /// the chunk is malformed.
    @discardableResult
    static func forEachLine(_ chunk: UnsafeRawBufferPointer, _ body: (StatementLine) -> Bool) -> Bool? {
        var offset = 0
        while offset < chunk.count {
            guard chunk.count - offset >= Self.fixedBytes else { return nil }
            let length = Int(chunk[offset + 41])
            guard chunk.count - offset - Self.fixedBytes >= length else { return nil }
            func word(_ at: Int) -> UInt64 { chunk.loadUnaligned(fromByteOffset: offset + at, as: UInt64.self).littleEndian }
            let line = StatementLine(
                position: word(0), transfer: String(decoding: UnsafeRawBufferPointer(rebasing: chunk[(offset + 42)..<(offset + 42 + length)]), as: UTF8.self),
                isDebit: chunk[offset + 8] == 0, amount: word(9), debitsPosted: word(17), creditsPosted: word(25), recordedAt: word(33))
            offset += Self.fixedBytes + length
            if !body(line) { return true }
        }
        return true
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
