import Foundation
@testable import Tally
import TallyTesting
import Testing

/// The export's file writer (lines formatted straight into 1 MiB chunks; SHA-256 on one
/// thread, XXH3 and `O_DIRECT` writes on another) writes exactly the bytes it was given, in
/// order, across chunk ends and for pieces larger than a chunk, with the checksums a second
/// read and `sha256sum` agree with.
@Suite struct HashedFileOutputTests {
    @Test(arguments: [[], [10], [1 << 20], [(1 << 20) - 1, 2, 5], [300, 5 * (1 << 20) / 2, 4_096, 17], Array(repeating: 4_099, count: 900)])
    func writesEveryPieceInOrderWithBothChecksums(pieces: [Int]) async throws {
        try await withTemporaryDirectory { dir in
            let path = dir.path + "/out.bin"
            let data = HashingCopyTests.bytes(pieces.reduce(0, +), seed: UInt64(pieces.count) + 7)
            let output = try HashedFileOutput(path: path)
            var offset = 0
            for piece in pieces {
                data.withUnsafeBytes { all in
                    output.write { $0.put(UnsafeRawBufferPointer(rebasing: all[offset..<(offset + piece)])) }
                }
                offset += piece
            }
            let digest = try output.finish()
            let written = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
            #expect(written == data)
            #expect(digest.bytes == UInt64(data.count))
            #expect(try FileDigest.compute("out.bin", in: dir.path).sha256 == digest.sha256)
            #expect(try FileDigest.compute("out.bin", in: dir.path).xxh3 == digest.xxh3)
            let sha = try await runProcess("/usr/bin/sha256sum", [path])
            #expect(sha.standardOutput.hasPrefix(digest.sha256 + " "))
        }
    }
}
