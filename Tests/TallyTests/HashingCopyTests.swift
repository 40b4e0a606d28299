import Foundation
@testable import Tally
import TallyTesting
import Testing

/// The backup's copy path (a producer writing into a pipe; SHA-256 on one thread, XXH3 and
/// `O_DIRECT` writes on another) writes exactly what it was sent, whatever its length, with
/// the checksums `sha256sum` and a second read agree with; a failing producer fails the copy.
@Suite struct HashingCopyTests {
    /// Deterministic bytes, different at every offset.
    static func bytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
    }

    /// Empty, one block, exactly one chunk, several chunks and a short tail, a tail shorter
    /// than a block: each case of the whole-block rule `O_DIRECT` writes follow.
    @Test(arguments: [0, 4_096, 1 << 20, 3 * (1 << 20) + 123, 2 * (1 << 20) + 4_096, 777])
    func copiesEveryByteWithBothChecksums(size: Int) async throws {
        try await withTemporaryDirectory { dir in
            let data = Self.bytes(size, seed: UInt64(size) + 1)
            let digest = try await HashingCopy.run(into: dir.path, path: "copy.bin") { fd in
                var offset = 0
                while offset < data.count {  // odd-sized writes, as a producer may make
                    let step = min(100_003, data.count - offset)
                    let n = data.withUnsafeBytes { write(fd, $0.baseAddress?.advanced(by: offset), step) }
                    guard n > 0 else { throw RecoveryError(.io, "pipe write failed", file: "copy.bin") }
                    offset += n
                }
            }
            let written = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir.path + "/copy.bin")))
            #expect(written == data)
            #expect(digest.bytes == UInt64(size))
            #expect(try FileDigest.compute("copy.bin", in: dir.path) == digest)
            let sha = try await runProcess("/usr/bin/sha256sum", [dir.path + "/copy.bin"])
            #expect(sha.standardOutput.hasPrefix(digest.sha256 + " "))
        }
    }

    @Test func aFailingProducerFailsTheCopy() async throws {
        try await withTemporaryDirectory { dir in
            await #expect(throws: RecoveryError.self) {
                _ = try await HashingCopy.run(into: dir.path, path: "copy.bin") { fd in
                    _ = Self.bytes(5_000, seed: 9).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                    throw RecoveryError(.io, "the producer gave up", file: "copy.bin")
                }
            }
        }
    }
}
