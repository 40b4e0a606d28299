import ArgumentParser
import Tally

/// Options every command takes.
struct CommonOptions: ParsableArguments {
    @Option(name: .long, help: "The data directory.")
    var data: String = "./data"

    @Flag(name: .long, help: "Print results as JSON (one object, or one per line for streams of events).")
    var json = false

    @Option(name: .long, help: "The LMDB map size in GiB: the most the log can hold (disk is used only as it grows).")
    var mapSize: Int = LogConfiguration.defaultMapSizeBytes >> 30

    func configuration(readOnly: Bool, create: Bool = false) -> LogConfiguration {
        LogConfiguration(mapSizeBytes: self.mapSize << 30, readOnly: readOnly, createIfMissing: create)
    }
}
