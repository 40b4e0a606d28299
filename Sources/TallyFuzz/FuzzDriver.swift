import Foundation

/// The glue to libFuzzer, which the sanitizer build links in (scripts/sanitize.sh builds
/// with `-sanitize=address -sanitize-coverage=…` and libFuzzer's driver without its `main`).
enum FuzzDriver {
    /// `int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *, size_t))`.
    private typealias Driver = @convention(c) (
        UnsafeMutablePointer<Int32>, UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
        @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
    ) -> Int32

    /// Whether libFuzzer is linked in (only in the sanitizer build).
    static var isAvailable: Bool { Self.driver != nil }

    private static var driver: Driver? {
        // The build exports the symbol (`--export-dynamic-symbol`), so no C module is needed.
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "LLVMFuzzerRunDriver") else { return nil }
        return unsafeBitCast(symbol, to: Driver.self)
    }

    /// Runs libFuzzer on `target` with `options` (libFuzzer's flags and corpus directories);
    /// returns its exit status (0: no crash in the time given).
    static func run(_ target: FuzzTarget, options: [String]) -> Int32 {
        guard let driver = Self.driver else { return 2 }
        setenv("TALLY_FUZZ_TARGET", target.rawValue, 1)
        // libFuzzer keeps pointers into argv for the whole run, so it is never freed. (Its
        // -fork and -jobs modes re-execute argv without the target: not supported.)
        let strings = ([CommandLine.arguments[0]] + options).map { strdup($0) }
        let argv = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: strings.count + 1)
        for (index, string) in strings.enumerated() { argv[index] = string }
        argv[strings.count] = nil
        var count = Int32(strings.count)
        var arguments: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
        return driver(&count, &arguments, fuzzOneInput)
    }
}

/// The target of this process's fuzz run, from `TALLY_FUZZ_TARGET` (set by ``FuzzDriver/run(_:options:)``).
private let selectedTarget: FuzzTarget? = FuzzTarget(rawValue: ProcessInfo.processInfo.environment["TALLY_FUZZ_TARGET"] ?? "")

/// libFuzzer's callback: one input to the selected target.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let target = selectedTarget else { preconditionFailure("TALLY_FUZZ_TARGET names no fuzz target") }
    target.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}
