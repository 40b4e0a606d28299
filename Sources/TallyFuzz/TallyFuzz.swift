import Foundation

/// `tally-fuzz`: the fuzz targets over Tally's readers of untrusted bytes.
///
///     tally-fuzz TARGET PATH...               feed each file (or each file of a directory) once
///     tally-fuzz fuzz TARGET [libFuzzer ...]  fuzz with libFuzzer (the sanitizer build only)
///
/// The first form is the regression run over fixtures/fuzz (the test suite runs it) and the
/// way to reproduce a crash the fuzzer saved; scripts/fuzz.sh runs the second.
@main
enum TallyFuzz {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "fuzz" {
            guard arguments.count >= 2, let target = FuzzTarget(rawValue: arguments[1]) else { Self.usage() }
            guard FuzzDriver.isAvailable else {
                Self.fail("this tally-fuzz has no libFuzzer: build and run it with scripts/fuzz.sh (the sanitizer build)")
            }
            exit(FuzzDriver.run(target, options: Array(arguments.dropFirst(2))))
        }
        guard arguments.count >= 2, let target = FuzzTarget(rawValue: arguments[0]) else { Self.usage() }
        var count = 0
        for path in arguments.dropFirst() {
            for file in Self.files(at: path) {
                guard let data = FileManager.default.contents(atPath: file) else { Self.fail("cannot read \(file)") }
                target.run(Array(data))
                count += 1
            }
        }
        print("\(target.rawValue): \(count) inputs, no crash")
    }

    /// `path` itself, or the regular files in it (sorted, not recursive).
    private static func files(at path: String) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { return [path] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.sorted().filter { !$0.hasPrefix(".") }.map { path + "/" + $0 }
    }

    private static func usage() -> Never {
        var text = """
            usage: tally-fuzz TARGET PATH...               feed each file (or each file of a directory) once
                   tally-fuzz fuzz TARGET [libFuzzer ...]  fuzz with libFuzzer (build: scripts/fuzz.sh)

            targets:

            """
        for target in FuzzTarget.allCases { text += "  \(target.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0))\(target.summary)\n" }
        FileHandle.standardError.write(Data(text.utf8))
        exit(2)
    }

    private static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("tally-fuzz: \(message)\n".utf8))
        exit(1)
    }
}
