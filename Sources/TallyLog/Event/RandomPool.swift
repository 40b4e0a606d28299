#if canImport(Glibc)
import Glibc
#endif
import NIOConcurrencyHelpers

/// Random words from the kernel's CSPRNG, fetched 4 KiB at a time and handed out once each.
/// Safe from any thread; a word is never handed out twice.
final class RandomPool: Sendable {
    static let shared = RandomPool()

    private struct Words {
        var words = [UInt64](repeating: 0, count: 512)
        var next = 512
    }

    private let state = NIOLockedValueBox(Words())

    /// The next random 64-bit word.
    func next() -> UInt64 {
        self.state.withLockedValue { state in
            if state.next == state.words.count {
                state.words.withUnsafeMutableBytes { Self.fill($0) }
                state.next = 0
            }
            defer { state.next += 1 }
            return state.words[state.next]
        }
    }

    /// Fills `buffer` from the kernel's CSPRNG (`/dev/urandom`, opened once and kept), or
    /// from the standard library's generator when that cannot be read.
    private static func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        var filled = 0
        if Self.device >= 0 {
            while filled < buffer.count {
                let count = read(Self.device, buffer.baseAddress.map { $0 + filled }, buffer.count - filled)
                if count > 0 {
                    filled += count
                } else if count == 0 || errno != EINTR {
                    break
                }
            }
        }
        guard filled < buffer.count else { return }
        var generator = SystemRandomNumberGenerator()
        for offset in stride(from: 0, to: buffer.count - 7, by: 8) {
            buffer.storeBytes(of: generator.next(), toByteOffset: offset, as: UInt64.self)
        }
    }

    private static let device = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
}
