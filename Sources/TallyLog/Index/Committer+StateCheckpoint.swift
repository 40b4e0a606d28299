import Foundation
import Logging
import TallyChecksum
import TallyLMDB

/// State checkpoints (the payments write model) kept in `meta` behind the log: the header
/// `checkpoint.<name>` = position u64 LE ‖ byte count u64 LE ‖ XXH3-64 u64 LE ‖ chunks u32 LE,
/// and the bytes in chunks of at most 1 MiB under `checkpoint.<name>.<chunk u32 BE>`.
enum StateCheckpoint {
    static let chunkBytes = 1 << 20

    static func headerKey(_ name: String) -> [UInt8] { Array("checkpoint.\(name)".utf8) }

    static func chunkKey(_ name: String, _ index: UInt32) -> [UInt8] {
        var key = Array("checkpoint.\(name).".utf8)
        withUnsafeBytes(of: index.bigEndian) { key.append(contentsOf: $0) }
        return key
    }
}

extension Committer {
    /// Asks the listener for a snapshot and writes it as of the current head (writer thread,
    /// between batches). A failure is logged and costs only a longer replay at the next open.
    func writeStateCheckpoint() {
        self.writer.preconditionCurrent()
        guard let listener = self.listener else { return }
        for snapshot in listener.checkpointSnapshots() { self.write(snapshot) }
    }

    private func write(_ snapshot: StateSnapshot) {
        var snapshot = snapshot
        snapshot.position = self.state.nextPosition - 1
        let name = snapshot.name
        let bytes = snapshot.bytes
        let chunks = (bytes.count + StateCheckpoint.chunkBytes - 1) / StateCheckpoint.chunkBytes
        do {
            try self.environment.write { txn in
                let meta = self.databases.meta
                let header = StateCheckpoint.headerKey(name)
                if let old = try header.withUnsafeBytes({ key in try txn.get(meta, key: key) }), old.count == 28 {
                    let oldChunks = old.loadLE(UInt32.self, at: 24)
                    for index in 0..<oldChunks {
                        _ = try StateCheckpoint.chunkKey(name, index).withUnsafeBytes { key in try txn.delete(meta, key: key) }
                    }
                }
                for index in 0..<chunks {
                    let range = (index * StateCheckpoint.chunkBytes)..<min(bytes.count, (index + 1) * StateCheckpoint.chunkBytes)
                    try StateCheckpoint.chunkKey(name, UInt32(index)).withUnsafeBytes { key in
                        try bytes[range].withUnsafeBytes { value in try txn.put(meta, key: key, value: value, flags: []) }
                    }
                }
                var value = Keys.littleEndian(snapshot.position)
                value.append(contentsOf: Keys.littleEndian(UInt64(bytes.count)))
                value.append(contentsOf: Keys.littleEndian(bytes.withUnsafeBytes { XXH3.hash($0) }))
                withUnsafeBytes(of: UInt32(chunks).littleEndian) { value.append(contentsOf: $0) }
                try header.withUnsafeBytes { key in
                    try value.withUnsafeBytes { value in try txn.put(meta, key: key, value: value, flags: []) }
                }
            }
        } catch let error as LMDBError where error.function == "mdb_txn_commit" {
            self.poison(self.commitFailure("state checkpoint commit", error))
        } catch {
            self.logger.warning(
                "state checkpoint failed; the next open replays more of the log",
                metadata: ["tally.checkpoint": "\(name)", "tally.error": "\(error)"])
        }
    }
}

extension EventLog {
    /// The newest state checkpoint named `name`, or `nil` if there is none or it does not
    /// verify (its XXH3 or size differs: then replay from the start).
    public func stateCheckpoint(named name: String) throws -> StateSnapshot? {
        try self.environment.read { txn in
            let meta = self.databases.meta
            guard let header = try StateCheckpoint.headerKey(name).withUnsafeBytes({ key in try txn.get(meta, key: key) }),
                header.count == 28
            else { return nil }
            let position = header.loadLE(UInt64.self, at: 0)
            let count = Int(header.loadLE(UInt64.self, at: 8))
            let checksum = header.loadLE(UInt64.self, at: 16)
            let chunks = header.loadLE(UInt32.self, at: 24)
            var bytes: [UInt8] = []
            bytes.reserveCapacity(count)
            for index in 0..<chunks {
                guard let chunk = try StateCheckpoint.chunkKey(name, index).withUnsafeBytes({ key in try txn.get(meta, key: key) })
                else { return nil }
                bytes.append(contentsOf: chunk)
            }
            guard bytes.count == count, bytes.withUnsafeBytes({ XXH3.hash($0) }) == checksum else { return nil }
            return StateSnapshot(name: name, bytes: bytes, position: position)
        }
    }
}
