import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What a training run records with each checkpoint so that it can be continued: the
/// epochs done, the settings that identify the run, and the random generators' states.
///
/// It travels in the checkpoint's safetensors metadata (`d2l.epoch`, `d2l.random_state`,
/// `d2l.sampler_state`, `d2l.optimizer_state`, `d2l.run.<setting>`), so the weights and the
/// record are replaced together, atomically; PyTorch's `load_state_dict` ignores it.
public struct RunRecord: Equatable, Sendable {
    /// Epochs completed.
    public var epoch: Int
    /// The settings a run must share to continue this one (architecture, batch size,
    /// learning rate, seed, data subset, …), by name.
    public var identity: [String: String]
    /// `Random.generator`'s state after the epoch (dropout draws, unseeded shuffles).
    public var randomState: UInt64
    /// The state of the data sampler's own generator after the epoch, when it has one.
    public var samplerState: UInt64?
    /// The number of optimizer state entries saved next to the checkpoint
    /// (`optimizer.safetensors`); 0 for a stateless optimizer.
    public var optimizerEntries: Int

    public init(epoch: Int, identity: [String: String], randomState: UInt64, samplerState: UInt64? = nil,
                optimizerEntries: Int = 0) {
        self.epoch = epoch
        self.identity = identity
        self.randomState = randomState
        self.samplerState = samplerState
        self.optimizerEntries = optimizerEntries
    }

    static let runPrefix = "d2l.run."

    /// The record as safetensors metadata.
    public var metadata: [String: String] {
        var result = ["d2l.epoch": String(epoch), "d2l.random_state": String(randomState),
                      "d2l.optimizer_state": String(optimizerEntries)]
        if let samplerState { result["d2l.sampler_state"] = String(samplerState) }
        for (key, value) in identity { result[Self.runPrefix + key] = value }
        return result
    }

    /// The record in a checkpoint's metadata, or nil when it has none (a checkpoint from
    /// elsewhere, or from a version of d2l-cli that did not record runs).
    /// - Throws: `ToolkitError(.invalidData)` naming `source` for a malformed record.
    public init?(metadata: [String: String], source: String) throws {
        guard let epochText = metadata["d2l.epoch"] else { return nil }
        func number<T: FixedWidthInteger>(_ key: String, _ text: String?) throws -> T {
            guard let text, let value = T(text) else {
                throw ToolkitError(.invalidData, "\(source): the run record's \(key) is \(text.map { "'\($0)'" } ?? "missing")")
            }
            return value
        }
        epoch = try number("d2l.epoch", epochText)
        randomState = try number("d2l.random_state", metadata["d2l.random_state"])
        optimizerEntries = try number("d2l.optimizer_state", metadata["d2l.optimizer_state"])
        samplerState = try metadata["d2l.sampler_state"].map { try number("d2l.sampler_state", $0) }
        guard epoch >= 1, optimizerEntries >= 0 else {
            throw ToolkitError(.invalidData, "\(source): the run record has epoch \(epoch), optimizer entries \(optimizerEntries)")
        }
        var identity: [String: String] = [:]
        for (key, value) in metadata where key.hasPrefix(Self.runPrefix) {
            identity[String(key.dropFirst(Self.runPrefix.count))] = value
        }
        self.identity = identity
    }
}

/// The run folder of `Trainer` and `LanguageModelTrainer` (`d2l-cli train`): the one place
/// that decides whether a run may start there, saves what a run needs to continue, and
/// continues it.
///
/// After every epoch the optimizer's state (when it keeps any) goes to
/// `optimizer.safetensors`, then the weights and the ``RunRecord`` to
/// `checkpoint.safetensors`, each atomically. A resumed run loads the weights, the
/// optimizer state and the generators' states, keeps the first rows of `metrics.csv` (one
/// per epoch done) and carries on with the next epoch, so it ends where an uninterrupted run
/// would have.
public enum TrainingRun {
    /// The checkpoint's file name in the run folder.
    public static let checkpointName = "checkpoint.safetensors"
    /// The optimizer state's file name in the run folder.
    public static let optimizerStateName = "optimizer.safetensors"

    /// Checks that `directory` is, or can be created as, a folder this process can write
    /// to: the folder, or its nearest existing parent, must be a folder in which a folder can
    /// be made (a probe folder is made and removed at once, so that a read-only file system
    /// or `/proc` is found even for root). Leaves nothing behind.
    /// - Throws: `ToolkitError(.io)`: `cannot write to '<path>': <reason>`.
    public static func checkWritable(_ directory: String) throws {
        func refuse(_ reason: String) -> ToolkitError { ToolkitError(.io, "cannot write to '\(directory)': \(reason)") }
        guard !directory.isEmpty else { throw refuse("the path is empty") }
        var path = directory
        while true {
            var info = stat()
            if stat(path, &info) == 0 {
                guard (info.st_mode & S_IFMT) == S_IFDIR else {
                    throw refuse(path == directory ? "it is a file, not a folder" : "'\(path)' is a file, not a folder")
                }
                let probe = path + "/.d2l-write-check-\(getpid())-\(UInt32.random(in: 0 ... .max))"
                guard mkdir(probe, 0o700) == 0 else {
                    let reason = String(cString: strerror(errno))
                    throw refuse(path == directory ? reason : "no folder can be made in '\(path)' (\(reason))")
                }
                rmdir(probe)
                return
            }
            guard errno == ENOENT else { throw refuse(String(cString: strerror(errno))) }
            let parent = (path as NSString).deletingLastPathComponent
            path = parent.isEmpty || parent == path ? "." : parent
        }
    }

    /// Creates `directory` (and its parents) for a run's files.
    /// - Throws: `ToolkitError(.io)`: `cannot write to '<path>': <reason>`.
    static func createDirectory(_ directory: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            let reason = ((error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError)?.localizedDescription
                ?? error.localizedDescription
            throw ToolkitError(.io, "cannot write to '\(directory)': \(reason)")
        }
    }

    /// The checks before a run starts in `directory`, writing nothing: the folder can be
    /// written; a new run (`resume` false) does not overwrite a checkpoint unless `force`; a
    /// resumed run has a checkpoint there whose record has the same `identity` and fewer
    /// than `epochs` epochs.
    ///
    /// - Returns: the record a resumed run continues from; nil for a new run.
    /// - Throws: `ToolkitError` with a one-line message naming the file and what to do.
    @discardableResult
    public static func preflight(directory: String, resume: Bool, force: Bool, identity: [String: String],
                                 epochs: Int) throws -> RunRecord? {
        try checkWritable(directory)
        let checkpoint = directory + "/" + checkpointName
        let exists = FileManager.default.fileExists(atPath: checkpoint)
        guard resume else {
            if exists && !force {
                throw ToolkitError(.invalidArgument, "\(checkpoint) exists: continue that run with --resume, "
                                   + "or start a new one over it with --force")
            }
            return nil
        }
        return try record(in: directory, identity: identity, epochs: epochs).record
    }

    /// The checkpoint of `directory` and its record, checked against this run's settings.
    static func record(in directory: String, identity: [String: String],
                       epochs: Int) throws -> (file: SafeTensorsFile, record: RunRecord) {
        let checkpoint = directory + "/" + checkpointName
        guard FileManager.default.fileExists(atPath: checkpoint) else {
            throw ToolkitError(.invalidArgument, "cannot resume: \(checkpoint) does not exist (start a new run without --resume)")
        }
        let file = try SafeTensorsFile.read(path: checkpoint)
        guard let record = try RunRecord(metadata: file.metadata, source: checkpoint) else {
            throw ToolkitError(.invalidArgument, "cannot resume \(checkpoint): it has no run record "
                               + "(not written by d2l-cli train, or by an older version); start over with --force")
        }
        let keys = Set(identity.keys).union(record.identity.keys).sorted()
        let differences = keys.filter { identity[$0] != record.identity[$0] }.map { key in
            "\(key) \(record.identity[key] ?? "unset") there, \(identity[key] ?? "unset") here"
        }
        if !differences.isEmpty {
            throw ToolkitError(.invalidArgument, "cannot resume \(checkpoint): it is another run ("
                               + differences.joined(separator: ", ") + "); start over with --force")
        }
        if record.epoch >= epochs {
            throw ToolkitError(.invalidArgument, "cannot resume \(checkpoint): the run is finished (\(counted(record.epoch, "epoch")) "
                               + "of \(epochs)); ask for more with --epochs")
        }
        return (file, record)
    }

    /// Saves epoch `record.epoch`: the optimizer state (when there is any), then the model's
    /// weights with the record and `metadata` in their metadata.
    static func save(model: Module, optimizer: any Optimizer, record: RunRecord, metadata: [String: String] = [:],
                     directory: String) throws {
        var record = record
        let entries = optimizer.stateEntries()
        record.optimizerEntries = entries.count
        let statePath = directory + "/" + optimizerStateName
        if entries.isEmpty {
            if FileManager.default.fileExists(atPath: statePath) { try? FileManager.default.removeItem(atPath: statePath) }
        } else {
            let tensors = try entries.map { (name: $0.name, tensor: try SafeTensor(floats: $0.values, shape: [$0.values.count])) }
            try SafeTensorsFile(tensors: tensors, metadata: ["d2l.epoch": String(record.epoch)]).write(to: statePath)
        }
        try model.saveCheckpoint(to: directory + "/" + checkpointName,
                                 metadata: metadata.merging(record.metadata) { _, ours in ours })
    }

    /// Continues the run in `directory`: checks the checkpoint as ``preflight`` does (and
    /// that its metadata has `expected`'s values, e.g. the vocabulary), loads the weights
    /// with `loadWeights`, the optimizer state and `Random.generator`'s state, and reads the
    /// first `record.epoch` rows of `metrics.csv`, cutting off any later row (an epoch that
    /// was logged but not saved). Nothing is read into the model before every check passed.
    ///
    /// - Returns: the record and the metrics log reopened for appending, with its rows.
    static func resume(directory: String, identity: [String: String], epochs: Int, expected: [String: String] = [:],
                       optimizer: any Optimizer, metricsColumns: [String],
                       loadWeights: (String) throws -> Void) throws -> (record: RunRecord, log: MetricsLog, rows: [[Double]]) {
        let (file, record) = try self.record(in: directory, identity: identity, epochs: epochs)
        let checkpoint = directory + "/" + checkpointName
        for (key, value) in expected.sorted(by: { $0.key < $1.key }) where file.metadata[key] != value {
            throw ToolkitError(.invalidArgument, "cannot resume \(checkpoint): its \(key) differs from this run's; start over with --force")
        }
        var entries: [(name: String, values: [Float])] = []
        if record.optimizerEntries > 0 {
            let statePath = directory + "/" + optimizerStateName
            guard FileManager.default.fileExists(atPath: statePath) else {
                throw ToolkitError(.invalidArgument, "cannot resume \(checkpoint): the optimizer state \(statePath) is missing")
            }
            let state = try SafeTensorsFile.read(path: statePath)
            guard state.metadata["d2l.epoch"] == String(record.epoch), state.tensors.count == record.optimizerEntries else {
                throw ToolkitError(.invalidArgument, "cannot resume \(checkpoint): \(statePath) is from epoch "
                                   + "\(state.metadata["d2l.epoch"] ?? "?"), the checkpoint from epoch \(record.epoch) "
                                   + "(the run stopped while saving); start over with --force")
            }
            entries = try state.tensors.map { ($0.name, try $0.tensor.floats()) }
        }
        let metricsPath = directory + "/metrics.csv"
        guard FileManager.default.fileExists(atPath: metricsPath) else {
            throw ToolkitError(.invalidArgument, "cannot resume \(checkpoint): \(metricsPath) is missing")
        }
        let metrics = try MetricsLog.read(path: metricsPath)
        guard metrics.columns == metricsColumns else {
            throw ToolkitError(.invalidData, "cannot resume \(metricsPath): its columns \(metrics.columns) differ from \(metricsColumns)")
        }
        let rows = Array(metrics.rows.prefix(record.epoch))
        guard rows.count == record.epoch, rows.enumerated().allSatisfy({ $1.first == Double($0 + 1) }) else {
            throw ToolkitError(.invalidData, "cannot resume \(checkpoint): \(metricsPath) does not have one row for each of "
                               + "the \(counted(record.epoch, "epoch")) done")
        }
        try loadWeights(checkpoint)
        try optimizer.loadStateEntries(entries)
        Random.generator.state = record.randomState
        if metrics.rows.count > rows.count {
            let text = ([metricsColumns.joined(separator: ",")] + rows.map { $0.map(MetricsLog.format).joined(separator: ",") })
                .joined(separator: "\n") + "\n"
            try AtomicFile.write(text: text, to: metricsPath)
        }
        let log = try MetricsLog(path: metricsPath, columns: metricsColumns, resume: true)
        return (record, log, rows)
    }
}
