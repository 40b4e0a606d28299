/// How the balances projection stores statement lines: a batch's lines of one account, in
/// chunks of at most ``bytesMax`` bytes, each chunk in `balances.statements` under the
/// position of its first line (u64 big-endian) ‖ account id, so that every batch appends its
/// chunks at the end of that tree, and an entry account id ‖ 0x00 ‖ first position in
/// `balances.chunks` to find them by account.
///
/// Each line: position u64 | 0 debit, 1 credit | amount u64 | debits posted u64 | credits
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
