/// Status codes of the C API (`d2l_status` in include/d2l.h); raw values are stable.
public enum D2LStatus: Int32, Sendable {
    case ok = 0
    case invalidArgument = 1
    case io = 2
    case invalidModel = 3
    case unsupported = 4
    case shape = 5
    case outOfMemory = 6
    case `internal` = 7

    /// The C constant's name, e.g. `D2L_ERR_SHAPE`.
    public var name: StaticString {
        switch self {
        case .ok: return "D2L_OK"
        case .invalidArgument: return "D2L_ERR_INVALID_ARGUMENT"
        case .io: return "D2L_ERR_IO"
        case .invalidModel: return "D2L_ERR_INVALID_MODEL"
        case .unsupported: return "D2L_ERR_UNSUPPORTED"
        case .shape: return "D2L_ERR_SHAPE"
        case .outOfMemory: return "D2L_ERR_OUT_OF_MEMORY"
        case .internal: return "D2L_ERR_INTERNAL"
        }
    }
}

/// The one error type of the runtime: a status and a message naming the problem.
/// Every throwing runtime function uses typed throws (`throws(D2LError)`), which
/// Embedded Swift requires.
public struct D2LError: Error, Sendable {
    public var status: D2LStatus
    public var message: String
    /// Set by `ExecutionPlan` planned without `deferring` when a node's shapes depend on
    /// values only a run computes (NonMaxSuppression on a network's boxes): the graph needs
    /// a partial plan (sessions and the load-time check always plan with `deferring`).
    package var needsRunTimeValues = false

    public init(_ status: D2LStatus, _ message: String) {
        self.status = status
        self.message = message
    }

    static func invalidModel(_ message: String) -> D2LError { D2LError(.invalidModel, message) }
    static func unsupported(_ message: String) -> D2LError { D2LError(.unsupported, message) }
    static func shape(_ message: String) -> D2LError { D2LError(.shape, message) }
    static func invalidArgument(_ message: String) -> D2LError { D2LError(.invalidArgument, message) }
}
