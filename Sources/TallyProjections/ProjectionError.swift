/// An `apply` that cannot go on, naming the position.
public struct ProjectionError: Error, CustomStringConvertible {
    public let position: UInt64
    public let message: String

    public init(position: UInt64, message: String) {
        self.position = position
        self.message = message
    }

    public var description: String { "position \(self.position): \(self.message)" }
}
