import Testing
@testable import TallyChecksum

@Suite struct XXH3Tests {
    @Test func knownValueMatchesXxhsum() {
        // `printf hello | xxhsum -H3` prints 9555e8555c62dcfd.
        #expect(XXH3.hash(Array("hello".utf8)) == 0x9555_e855_5c62_dcfd)
        #expect(XXH3.hex(0x9555_e855_5c62_dcfd) == "9555e8555c62dcfd")
        #expect(XXH3.hex(0xab) == "00000000000000ab")
    }

    @Test func streamingEqualsOneShot() {
        let bytes = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var stream = XXH3Stream()
        for chunk in stride(from: 0, to: bytes.count, by: 997) {
            bytes[chunk..<min(chunk + 997, bytes.count)].withUnsafeBytes { stream.update($0) }
        }
        #expect(stream.digest() == XXH3.hash(bytes))
    }
}

@Suite struct SealChainTests {
    @Test func sealDependsOnEveryInput() {
        func seal(_ previous: [UInt8], _ first: UInt64, _ records: [[UInt8]]) -> [UInt8] {
            var chain = SealChain(previous: previous, first: first)
            for record in records { record.withUnsafeBytes { chain.add($0) } }
            return chain.finish()
        }
        let base = seal(SealChain.genesis, 1, [[1, 2, 3], [4, 5]])
        #expect(base.count == 32)
        #expect(base == seal(SealChain.genesis, 1, [[1, 2, 3], [4, 5]]))
        #expect(base != seal(SealChain.genesis, 2, [[1, 2, 3], [4, 5]]))
        #expect(base != seal(SealChain.genesis, 1, [[1, 2, 3], [4, 6]]))
        #expect(base != seal(base, 1, [[1, 2, 3], [4, 5]]))
        #expect(SealChain.hex(SealChain.genesis) == String(repeating: "0", count: 64))
    }
}
