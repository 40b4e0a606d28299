import Foundation
public import Logging
import Tally

/// A swift-log handler writing one JSON object per line to standard error: time, level,
/// label, message and every metadata field (the request id among them).
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String

    public init(label: String) {
        self.label = label
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = self.metadata
        if let extra = event.metadata { fields.merge(extra) { $1 } }
        var out = JSONOutput()
        out.objectStart()
        out.field("time", RFC3339.format(nanoseconds: wallClock()))
        out.field("level", event.level.rawValue)
        out.field("label", self.label)
        out.field("message", event.message.description)
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) { out.field(key, "\(value)") }
        out.objectEnd()
        var line = out.bytes
        line.append(UInt8(ascii: "\n"))
        FileHandle.standardError.write(Data(line))
    }

    /// Bootstraps swift-log with this handler (`json`) or the standard stream handler (`text`).
    public static func bootstrap(format: String, level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = format == "json" ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
