/// Checkpoints: a module's state dictionary as a safetensors file with PyTorch's key
/// names (float32 parameters and buffers; `num_batches_tracked` as int64), so that
/// `safetensors.torch.load_file` + `load_state_dict` restores the book's PyTorch module.
extension Module {
    /// The state dictionary as a safetensors file (in memory).
    public func stateDictFile(metadata: [String: String] = [:]) throws -> SafeTensorsFile {
        var tensors: [(name: String, tensor: SafeTensor)] = []
        for (name, parameter) in namedStateEntries() {
            let value = parameter.value
            if parameter.isIntegral {
                tensors.append((name, try SafeTensor(int64s: value.scalars.map { Int64($0) }, shape: value.shape)))
            } else {
                tensors.append((name, try SafeTensor(floats: value.scalars, shape: value.shape)))
            }
        }
        return SafeTensorsFile(tensors: tensors, metadata: metadata)
    }

    /// Writes the state dictionary to `path` atomically: the file is replaced whole or
    /// not at all (an interrupted run leaves the previous checkpoint).
    public func saveCheckpoint(to path: String, metadata: [String: String] = [:]) throws {
        try stateDictFile(metadata: metadata).write(to: path)
    }

    /// Loads a safetensors state dictionary (any float dtype, converted to float32).
    /// Every missing, unexpected and mis-shaped key is listed; nothing changes on error.
    public func loadCheckpoint(from path: String) throws {
        try loadStateDict(from: SafeTensorsFile.read(path: path), source: path)
    }

    /// Loads parameters from a decoded safetensors file.
    public func loadStateDict(from file: SafeTensorsFile, source: String = "checkpoint") throws {
        var state: [(name: String, value: Tensor)] = []
        for (name, tensor) in file.tensors {
            let values: [Float]
            do { values = try tensor.floats() } catch {
                throw ToolkitError(.invalidData, "\(source): tensor \(name): \(error)")
            }
            state.append((name, Tensor(values, shape: tensor.shape)))
        }
        try loadStateDict(state)
    }
}
