internal import CLMDB

/// An error reported by LMDB, or by the wrapper when LMDB is misused.
///
/// Every LMDB call in ``TallyLMDB`` checks its return code where it is produced and throws
/// this error with the raw code, the C function that failed and LMDB's own message, so a
/// log line names exactly what went wrong:
///
/// ```
/// mdb_txn_commit failed (-30792 MDB_MAP_FULL): Environment mapsize limit reached [path: data/log]
/// ```
public struct LMDBError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure: LMDB's return code, or an errno value for system errors.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The raw return code (negative for LMDB's own codes, errno values otherwise).
        public let rawValue: Int32

        /// Creates a code from a raw LMDB or errno return value.
        public init(rawValue: Int32) { self.rawValue = rawValue }

        /// `MDB_NOTFOUND`: no matching key.
        public static var notFound: Code { Code(rawValue: MDB_NOTFOUND) }
        /// `MDB_KEYEXIST`: the key exists and the put asked not to overwrite it.
        public static var keyExists: Code { Code(rawValue: MDB_KEYEXIST) }
        /// `MDB_MAP_FULL`: the environment's map is full.
        public static var mapFull: Code { Code(rawValue: MDB_MAP_FULL) }
        /// `MDB_READERS_FULL`: every reader slot is taken.
        public static var readersFull: Code { Code(rawValue: MDB_READERS_FULL) }
        /// `ENOSPC`: the disk is full.
        public static var noSpace: Code { Code(rawValue: 28) }
        /// `EIO`: the operating system reported an I/O error.
        public static var ioError: Code { Code(rawValue: 5) }
        /// The wrapper refused a second open of an environment already open in this process.
        public static var alreadyOpen: Code { Code(rawValue: -1_000_001) }

        /// LMDB's message for this code (`mdb_strerror`).
        public var description: String {
            if self == .alreadyOpen { return "environment already open in this process" }
            return String(cString: mdb_strerror(self.rawValue))
        }
    }

    /// What failed.
    public var code: Code
    /// The C function that returned the code, e.g. `mdb_txn_commit`.
    public var function: String
    /// LMDB's message plus any context the wrapper adds.
    public var message: String
    /// The environment's path, when known.
    public var path: String?

    /// Creates an error for a failed LMDB call.
    public init(code: Code, function: String, message: String? = nil, path: String? = nil) {
        self.code = code
        self.function = function
        self.message = message ?? code.description
        self.path = path
    }

    /// Matches errors by code, so callers can write `catch LMDBError.Code.mapFull`-style
    /// checks as `if error.code == .mapFull`.
    public static func ~= (lhs: Code, rhs: LMDBError) -> Bool { lhs == rhs.code }

    /// A one-line description naming the function, the code and the path.
    public var description: String {
        var text = "\(self.function) failed (\(self.code.rawValue)): \(self.message)"
        if let path = self.path { text += " [path: \(path)]" }
        return text
    }
}

/// Throws an ``LMDBError`` when `code` is not `MDB_SUCCESS`.
///
/// `path` is read only for an error: every put and get of the commit path calls this, and
/// reading it each time cost a retain and a release of the string.
@inline(__always)
func check(_ code: Int32, _ function: StaticString, path: @autoclosure () -> String? = nil) throws(LMDBError) {
    if code != MDB_SUCCESS {
        throw LMDBError(code: LMDBError.Code(rawValue: code), function: "\(function)", path: path())
    }
}
