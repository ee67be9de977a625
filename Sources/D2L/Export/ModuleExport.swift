import Foundation

// Lowering of the toolkit's layers to ONNX nodes (default domain, opsets 13–22; written
// as opset 17 by default). Each layer adds the nodes of its evaluation-mode forward:
// Dropout adds nothing, BatchNorm uses its running statistics. Initializers are named
// by the PyTorch state-dict keys (`b1.0.weight`, `b2.0.bn1.running_mean`, …).

/// A tensor while a module is lowered: its name in the graph and its static shape.
/// Dimension 0 is the batch: symbolic in the file, the value here is the placeholder the
/// caller's input shape gave.
public struct ONNXExportValue: Sendable, Equatable {
    public var name: String
    public var shape: [Int]

    public init(name: String, shape: [Int]) {
        self.name = name
        self.shape = shape
    }

    public var rank: Int { shape.count }
}

/// A module that can write its evaluation-mode forward as ONNX nodes.
///
/// `prefix` is the module's state-dict key prefix (`""` for the root, `"b2.0"` for a
/// child), so that its parameters become initializers named `prefix.weight`. Return the
/// output; throw `ToolkitError(.shape)` when `input` does not fit and
/// `ToolkitError(.unsupported)` for what ONNX cannot express.
public protocol ONNXLowerable {
    func lower(_ input: ONNXExportValue, prefix: String, into context: inout ONNXExportContext) throws -> ONNXExportValue
}

/// The graph being built while a module is lowered, with helpers for the common nodes.
public struct ONNXExportContext {
    public var builder: ONNXGraphBuilder
    /// Whether BatchNorm layers that directly follow a Conv2d (or a Linear on 2-D input)
    /// are folded into its weights instead of written as BatchNormalization.
    public let foldBatchNorm: Bool

    public init(builder: ONNXGraphBuilder, foldBatchNorm: Bool = false) {
        self.builder = builder
        self.foldBatchNorm = foldBatchNorm
    }

    /// `prefix.name`, or `name` at the root.
    public static func key(_ prefix: String, _ name: String) -> String {
        prefix.isEmpty ? name : prefix + "." + name
    }

    /// A name for `where` in messages: the key, or "the root module".
    static func place(_ prefix: String) -> String { prefix.isEmpty ? "the root module" : "'\(prefix)'" }

    // MARK: - Building blocks

    /// Adds `tensor`'s values as a float32 initializer named `name` (a state-dict key);
    /// adding the same name again (a shared parameter) reuses the first one. The values
    /// are not copied: the initializer shares the tensor's storage (tensors are values).
    @discardableResult
    public mutating func addInitializer(_ name: String, _ tensor: Tensor) -> String {
        addInitializer(name, ONNXTensor(shape: tensor.shape, floats: tensor.scalars))
    }

    /// Adds `tensor` as an initializer named `name`, or reuses an earlier one of that name.
    @discardableResult
    mutating func addInitializer(_ name: String, _ tensor: ONNXTensor) -> String {
        if builder.initializers.contains(where: { $0.name == name }) { return name }
        return builder.addInitializer(name: name, tensor: tensor)
    }

    /// Adds a node with one output, named `prefix/OpType_N`. Returns the output's name.
    public mutating func addNode(_ opType: String, _ inputs: [String], prefix: String,
                                 attributes: [ONNXAttribute] = []) -> String {
        let outputPrefix = prefix.isEmpty ? opType : prefix + "/" + opType
        return builder.addNode(opType, inputs: inputs, outputPrefix: outputPrefix, attributes: attributes)
    }

    /// Lowers `module`, registered under the key `prefix`. Throws
    /// `ToolkitError(.unsupported)` for a module type without an ONNX lowering.
    public mutating func lower(_ module: Module, _ input: ONNXExportValue, prefix: String) throws -> ONNXExportValue {
        guard let lowerable = module as? ONNXLowerable else {
            throw ToolkitError(.unsupported,
                               "cannot export \(type(of: module)) at \(Self.place(prefix)) to ONNX: the layer has no ONNX lowering (conform it to ONNXLowerable)")
        }
        return try lowerable.lower(input, prefix: prefix, into: &self)
    }

    /// An elementwise node (`Relu`, `Sigmoid`, `Tanh`, …) of one input: same shape out.
    public mutating func unary(_ opType: String, _ x: ONNXExportValue, prefix: String) -> ONNXExportValue {
        ONNXExportValue(name: addNode(opType, [x.name], prefix: prefix), shape: x.shape)
    }

    /// `Relu(x)`.
    public mutating func relu(_ x: ONNXExportValue, prefix: String) -> ONNXExportValue {
        unary("Relu", x, prefix: prefix)
    }

    /// `Add(a, b)` of two tensors of one shape.
    public mutating func add(_ a: ONNXExportValue, _ b: ONNXExportValue, prefix: String) throws -> ONNXExportValue {
        guard a.shape == b.shape else {
            throw ToolkitError(.shape, "\(Self.place(prefix)): cannot add shapes \(a.shape) and \(b.shape)")
        }
        return ONNXExportValue(name: addNode("Add", [a.name, b.name], prefix: prefix), shape: a.shape)
    }

    /// `Concat(parts, axis: 1)`: the channels joined; every other dimension must agree.
    public mutating func concatChannels(_ parts: [ONNXExportValue], prefix: String) throws -> ONNXExportValue {
        guard let first = parts.first else {
            throw ToolkitError(.invalidArgument, "\(Self.place(prefix)): nothing to concatenate")
        }
        var shape = first.shape
        guard first.rank >= 2 else {
            throw ToolkitError(.shape, "\(Self.place(prefix)): cannot concatenate \(first.shape) along the channels")
        }
        shape[1] = 0
        for p in parts {
            guard p.rank == first.rank, p.shape[0] == first.shape[0], p.shape[2...] == first.shape[2...] else {
                throw ToolkitError(.shape,
                                   "\(Self.place(prefix)): cannot concatenate shapes \(parts.map(\.shape)) along the channels")
            }
            shape[1] += p.shape[1]
        }
        let name = addNode("Concat", parts.map(\.name), prefix: prefix, attributes: [.int("axis", 1)])
        return ONNXExportValue(name: name, shape: shape)
    }

    /// `(size + 2·padding − kernel) / stride + 1`, or a shape error.
    static func windowOutput(_ size: Int, kernel: Int, stride: Int, padding: Int, _ what: String,
                             _ input: [Int]) throws -> Int {
        let padded = size + 2 * padding
        guard padded >= kernel, stride >= 1 else {
            throw ToolkitError(.shape, "\(what): input of shape \(input) is smaller than the \(kernel)-wide window after padding")
        }
        return (padded - kernel) / stride + 1
    }

    // MARK: - Layers with BatchNorm folding

    /// BatchNorm's per-channel scale γ/√(σ²+ε) and shift β − μ·scale, in double precision.
    static func batchNormAffine(_ bn: BatchNormBase) -> (scale: [Double], shift: [Double]) {
        let gamma = bn.weight.value.scalars, beta = bn.bias.value.scalars
        let mean = bn.runningMean.value.scalars, variance = bn.runningVar.value.scalars
        var scale: [Double] = [], shift: [Double] = []
        for c in 0..<bn.numFeatures {
            let s = Double(gamma[c]) / (Double(variance[c]) + Double(bn.eps)).squareRoot()
            scale.append(s)
            shift.append(Double(beta[c]) - Double(mean[c]) * s)
        }
        return (scale, shift)
    }

    /// `conv` (key `prefix`) on `x`; with `batchNorm`, the convolution of the folded
    /// weights `W·s` and bias `(b − μ)·s + β`, written under the convolution's keys (the
    /// bias of a bias-less convolution under the BatchNorm's `bias` key, `batchNormPrefix`).
    public mutating func conv(_ conv: Conv2d, _ x: ONNXExportValue, prefix: String,
                              foldingBatchNorm batchNorm: BatchNormBase? = nil,
                              batchNormPrefix: String? = nil) throws -> ONNXExportValue {
        let what = "Conv2d at \(Self.place(prefix))"
        guard x.rank == 4, x.shape[1] == conv.inputChannels else {
            throw ToolkitError(.shape, "\(what): expected input [N, \(conv.inputChannels), H, W], got shape \(x.shape)")
        }
        if let batchNorm, batchNorm.numFeatures != conv.outputChannels {
            throw ToolkitError(.shape, "\(what): \(conv.outputChannels) output channels cannot fold a BatchNorm of \(batchNorm.numFeatures) features")
        }
        let h = try Self.windowOutput(x.shape[2], kernel: conv.kernelSize.0, stride: conv.stride.0,
                                      padding: conv.padding.0, what, x.shape)
        let w = try Self.windowOutput(x.shape[3], kernel: conv.kernelSize.1, stride: conv.stride.1,
                                      padding: conv.padding.1, what, x.shape)
        var inputs = [x.name]
        let weightKey = Self.key(prefix, "weight"), biasKey = Self.key(prefix, "bias")
        if let batchNorm {
            let (scale, shift) = Self.batchNormAffine(batchNorm)
            // W·s per output channel, computed as the model is written (never held whole).
            let folded = ONNXTensor(shape: conv.weight.shape, scaling: conv.weight.value.scalars, rowsBy: scale)
            let bias = conv.bias?.value.scalars ?? [Float](repeating: 0, count: conv.outputChannels)
            let foldedBias = (0..<conv.outputChannels).map { Float(Double(bias[$0]) * scale[$0] + shift[$0]) }
            inputs.append(addInitializer(weightKey, folded))
            // A bias-less convolution's folded bias is all BatchNorm's: named by its `bias` key.
            let foldedBiasKey = conv.bias == nil ? batchNormPrefix.map { Self.key($0, "bias") } ?? biasKey : biasKey
            inputs.append(addInitializer(foldedBiasKey, Tensor(foldedBias, shape: [conv.outputChannels])))
        } else {
            inputs.append(addInitializer(weightKey, conv.weight.value))
            if let bias = conv.bias { inputs.append(addInitializer(biasKey, bias.value)) }
        }
        let name = addNode("Conv", inputs, prefix: prefix, attributes: [
            .ints("dilations", [1, 1]),
            .int("group", conv.groups),
            .ints("kernel_shape", [conv.kernelSize.0, conv.kernelSize.1]),
            .ints("pads", [conv.padding.0, conv.padding.1, conv.padding.0, conv.padding.1]),
            .ints("strides", [conv.stride.0, conv.stride.1]),
        ])
        return ONNXExportValue(name: name, shape: [x.shape[0], conv.outputChannels, h, w])
    }

    /// `linear` (key `prefix`) on `x`: `Gemm(transB=1)` on 2-D input, `MatMul` with the
    /// transposed weight (+ `Add`) on higher ranks. With `batchNorm` (2-D input only), the
    /// folded weights `W·s` and bias `(b − μ)·s + β` (named as `conv(_:_:prefix:foldingBatchNorm:batchNormPrefix:)` names them).
    public mutating func linear(_ linear: Linear, _ x: ONNXExportValue, prefix: String,
                                foldingBatchNorm batchNorm: BatchNormBase? = nil,
                                batchNormPrefix: String? = nil) throws -> ONNXExportValue {
        let what = "Linear at \(Self.place(prefix))"
        guard x.rank >= 2, x.shape.last == linear.inFeatures else {
            throw ToolkitError(.shape, "\(what): input of shape \(x.shape) does not end in \(linear.inFeatures) features")
        }
        let weightKey = Self.key(prefix, "weight"), biasKey = Self.key(prefix, "bias")
        let outShape = Array(x.shape.dropLast()) + [linear.outFeatures]
        if let batchNorm {
            guard x.rank == 2, batchNorm.numFeatures == linear.outFeatures else {
                throw ToolkitError(.shape, "\(what): cannot fold a BatchNorm of \(batchNorm.numFeatures) features into an output of shape \(outShape)")
            }
            let (scale, shift) = Self.batchNormAffine(batchNorm)
            let folded = ONNXTensor(shape: linear.weight.shape, scaling: linear.weight.value.scalars, rowsBy: scale)
            let bias = linear.bias?.value.scalars ?? [Float](repeating: 0, count: linear.outFeatures)
            let foldedBias = (0..<linear.outFeatures).map { Float(Double(bias[$0]) * scale[$0] + shift[$0]) }
            let w = addInitializer(weightKey, folded)
            let foldedBiasKey = linear.bias == nil ? batchNormPrefix.map { Self.key($0, "bias") } ?? biasKey : biasKey
            let b = addInitializer(foldedBiasKey, Tensor(foldedBias, shape: [linear.outFeatures]))
            let name = addNode("Gemm", [x.name, w, b], prefix: prefix, attributes: [.int("transB", 1)])
            return ONNXExportValue(name: name, shape: outShape)
        }
        let w = addInitializer(weightKey, linear.weight.value)
        let b = linear.bias.map { addInitializer(biasKey, $0.value) }
        if x.rank == 2 {
            let name = addNode("Gemm", [x.name, w] + (b.map { [$0] } ?? []), prefix: prefix,
                               attributes: [.int("transB", 1)])
            return ONNXExportValue(name: name, shape: outShape)
        }
        let wT = addNode("Transpose", [w], prefix: prefix, attributes: [.ints("perm", [1, 0])])
        var y = addNode("MatMul", [x.name, wT], prefix: prefix)
        if let b { y = addNode("Add", [y, b], prefix: prefix) }
        return ONNXExportValue(name: y, shape: outShape)
    }

    /// `bn` (key `prefix`) as an inference-mode `BatchNormalization` over axis 1.
    public mutating func batchNorm(_ bn: BatchNormBase, _ x: ONNXExportValue, prefix: String) throws -> ONNXExportValue {
        guard x.rank >= 2, x.shape[1] == bn.numFeatures else {
            throw ToolkitError(.shape, "\(type(of: bn))(\(bn.numFeatures)) at \(Self.place(prefix)): expected input [N, \(bn.numFeatures), …], got shape \(x.shape)")
        }
        let inputs = [
            x.name,
            addInitializer(Self.key(prefix, "weight"), bn.weight.value),
            addInitializer(Self.key(prefix, "bias"), bn.bias.value),
            addInitializer(Self.key(prefix, "running_mean"), bn.runningMean.value),
            addInitializer(Self.key(prefix, "running_var"), bn.runningVar.value),
        ]
        let name = addNode("BatchNormalization", inputs, prefix: prefix,
                           attributes: [.float("epsilon", bn.eps), .float("momentum", 1 - bn.momentum)])
        return ONNXExportValue(name: name, shape: x.shape)
    }

    /// A Conv2d followed by a BatchNorm: folded when `foldBatchNorm`, else both nodes.
    public mutating func convBatchNorm(_ conv: Conv2d, _ x: ONNXExportValue, prefix convPrefix: String,
                                       _ bn: BatchNormBase, prefix bnPrefix: String) throws -> ONNXExportValue {
        if foldBatchNorm {
            return try self.conv(conv, x, prefix: convPrefix, foldingBatchNorm: bn, batchNormPrefix: bnPrefix)
        }
        return try batchNorm(bn, try self.conv(conv, x, prefix: convPrefix), prefix: bnPrefix)
    }

    /// A pooling node (`MaxPool` or `AveragePool`): window `kernel` (height, width), moved by
    /// `stride`, over the input padded by `padding` on both sides of each dimension (ONNX
    /// `kernel_shape`, `strides` and `pads` = [top, left, bottom, right]).
    mutating func pool(_ opType: String, _ x: ONNXExportValue, kernel: (Int, Int), stride: (Int, Int),
                       padding: (Int, Int), prefix: String, what: String) throws -> ONNXExportValue {
        guard x.rank == 4 else {
            throw ToolkitError(.shape, "\(what) at \(Self.place(prefix)): expected input [N, C, H, W], got shape \(x.shape)")
        }
        let place = "\(what) at \(Self.place(prefix))"
        let h = try Self.windowOutput(x.shape[2], kernel: kernel.0, stride: stride.0, padding: padding.0, place, x.shape)
        let w = try Self.windowOutput(x.shape[3], kernel: kernel.1, stride: stride.1, padding: padding.1, place, x.shape)
        var attributes: [ONNXAttribute] = [
            .int("ceil_mode", 0),
            .ints("kernel_shape", [kernel.0, kernel.1]),
            .ints("pads", [padding.0, padding.1, padding.0, padding.1]),
            .ints("strides", [stride.0, stride.1]),
        ]
        if opType == "AveragePool" { attributes.append(.int("count_include_pad", 1)) }
        let name = addNode(opType, [x.name], prefix: prefix, attributes: attributes)
        return ONNXExportValue(name: name, shape: [x.shape[0], x.shape[1], h, w])
    }

    /// `x` flattened from axis `start` (`torch.flatten(x, start)`): ONNX `Flatten` for
    /// axis 1, a `Reshape` to `[0, …, 0, -1]` otherwise.
    public mutating func flatten(_ x: ONNXExportValue, startAxis start: Int, prefix: String) throws -> ONNXExportValue {
        guard start >= 0, x.rank > start else {
            throw ToolkitError(.shape, "Flatten(startAxis: \(start)) at \(Self.place(prefix)): input of shape \(x.shape) has too few dimensions")
        }
        let shape = Array(x.shape[..<start]) + [x.shape[start...].reduce(1, *)]
        if start == 1 {
            return ONNXExportValue(name: addNode("Flatten", [x.name], prefix: prefix, attributes: [.int("axis", 1)]),
                                   shape: shape)
        }
        let target = builder.uniqueName(prefix.isEmpty ? "flatten_shape" : prefix + "/shape")
        builder.addInitializer(name: target, shape: [start + 1],
                               int64s: Array(repeating: 0, count: start) + [-1])
        return ONNXExportValue(name: addNode("Reshape", [x.name, target], prefix: prefix), shape: shape)
    }
}

// MARK: - Layers

extension Linear: ONNXLowerable {
    public func lower(_ input: ONNXExportValue, prefix: String, into context: inout ONNXExportContext) throws -> ONNXExportValue {
        try context.linear(self, input, prefix: prefix)
    }
}

extension ReLU: ONNXLowerable {
    public func lower(_ input: ONNXExportValue, prefix: String, into context: inout ONNXExportContext) throws -> ONNXExportValue {
        context.unary("Relu", input, prefix: prefix)
    }
}

extension Sigmoid: ONNXLowerable {
    public func lower(_ input: ONNXExportValue, prefix: String, into context: inout ONNXExportContext) throws -> ONNXExportValue {
        context.unary("Sigmoid", input, prefix: prefix)
    }
}

extension Tanh: ONNXLowerable {
    public func lower(_ input: ONNXExportValue, prefix: String, into context: inout ONNXExportContext) throws -> ONNXExportValue {
        context.unary("Tanh", input, prefix: prefix)
    }
}

extension Flatten: ONNXLowerable {
    public func lower(_ input: ONNXExportValue, prefix: String, into context: inout ONNXExportContext) throws -> ONNXExportValue {
        try context.flatten(input, startAxis: startAxis, prefix: prefix)
    }
}

/// Dropout is the identity in evaluation mode: no node.
extension Dropout: ONNXLowerable {
    public func lower(_ input: ONNXExportValue, prefix: String, into context: inout ONNXExportContext) throws -> ONNXExportValue {
        input
    }
}

extension Conv2d: ONNXLowerable {
    public func lower(_ input: ONNXExportValue, prefix: String, into context: inout ONNXExportContext) throws -> ONNXExportValue {
        try context.conv(self, input, prefix: prefix)
    }
}

extension MaxPool2d: ONNXLowerable {
    public func lower(_ input: ONNXExportValue, prefix: String, into context: inout ONNXExportContext) throws -> ONNXExportValue {
        try context.pool("MaxPool", input, kernel: kernelSize, stride: stride, padding: padding, prefix: prefix,
                         what: "MaxPool2d")
    }
}

/// `AveragePool` with `count_include_pad=1` (PyTorch's default).
extension AvgPool2d: ONNXLowerable {
    public func lower(_ input: ONNXExportValue, prefix: String, into context: inout ONNXExportContext) throws -> ONNXExportValue {
        try context.pool("AveragePool", input, kernel: kernelSize, stride: stride, padding: padding, prefix: prefix,
                         what: "AvgPool2d")
    }
}

/// `GlobalAveragePool` for a 1×1 output; an `AveragePool` when the input size is a
/// multiple of the output size (then the adaptive windows are that pool's windows);
/// otherwise unsupported.
extension AdaptiveAvgPool2d: ONNXLowerable {
    public func lower(_ input: ONNXExportValue, prefix: String, into context: inout ONNXExportContext) throws -> ONNXExportValue {
        let what = "AdaptiveAvgPool2d(outputSize: \(outputSize)) at \(ONNXExportContext.place(prefix))"
        guard input.rank == 4, input.shape[2] >= 1, input.shape[3] >= 1 else {
            throw ToolkitError(.shape, "\(what): expected input [N, C, H, W], got shape \(input.shape)")
        }
        let (h, w) = (input.shape[2], input.shape[3])
        let (oh, ow) = outputSize
        if oh == 1 && ow == 1 {
            let name = context.addNode("GlobalAveragePool", [input.name], prefix: prefix)
            return ONNXExportValue(name: name, shape: [input.shape[0], input.shape[1], 1, 1])
        }
        guard h % oh == 0, w % ow == 0 else {
            throw ToolkitError(.unsupported,
                               "\(what): a \(h)×\(w) input is not a multiple of the output size, which ONNX pooling cannot express")
        }
        let (kh, kw) = (h / oh, w / ow)
        let name = context.addNode("AveragePool", [input.name], prefix: prefix, attributes: [
            .int("ceil_mode", 0),
            .int("count_include_pad", 1),
            .ints("kernel_shape", [kh, kw]),
            .ints("pads", [0, 0, 0, 0]),
            .ints("strides", [kh, kw]),
        ])
        return ONNXExportValue(name: name, shape: [input.shape[0], input.shape[1], oh, ow])
    }
}

/// Inference-mode `BatchNormalization` (running statistics).
extension BatchNormBase: ONNXLowerable {
    public func lower(_ input: ONNXExportValue, prefix: String, into context: inout ONNXExportContext) throws -> ONNXExportValue {
        try context.batchNorm(self, input, prefix: prefix)
    }
}

/// The layers in order; with `foldBatchNorm`, a BatchNorm right after a Conv2d (or a
/// Linear on 2-D input) is folded into it.
extension Sequential: ONNXLowerable {
    public func lower(_ input: ONNXExportValue, prefix: String, into context: inout ONNXExportContext) throws -> ONNXExportValue {
        var x = input
        var i = 0
        while i < layers.count {
            let key = ONNXExportContext.key(prefix, String(i))
            if context.foldBatchNorm, i + 1 < layers.count, let bn = layers[i + 1] as? BatchNormBase {
                if let conv = layers[i] as? Conv2d {
                    x = try context.conv(conv, x, prefix: key, foldingBatchNorm: bn,
                                         batchNormPrefix: ONNXExportContext.key(prefix, String(i + 1)))
                    i += 2
                    continue
                }
                if let linear = layers[i] as? Linear, x.rank == 2 {
                    x = try context.linear(linear, x, prefix: key, foldingBatchNorm: bn,
                                           batchNormPrefix: ONNXExportContext.key(prefix, String(i + 1)))
                    i += 2
                    continue
                }
            }
            x = try context.lower(layers[i], x, prefix: key)
            i += 1
        }
        return x
    }
}

// MARK: - The models' custom blocks

extension MLPBlock: ONNXLowerable {
    public func lower(_ input: ONNXExportValue, prefix: String, into context: inout ONNXExportContext) throws -> ONNXExportValue {
        let h = try context.linear(hidden, input, prefix: ONNXExportContext.key(prefix, "hidden"))
        return try context.linear(output, context.relu(h, prefix: prefix), prefix: ONNXExportContext.key(prefix, "output"))
    }
}

/// Four paths, each convolution followed by `Relu`, joined by `Concat(axis: 1)`.
extension Inception: ONNXLowerable {
    public func lower(_ x: ONNXExportValue, prefix: String, into context: inout ONNXExportContext) throws -> ONNXExportValue {
        func key(_ name: String) -> String { ONNXExportContext.key(prefix, name) }
        let p1 = context.relu(try context.conv(p1_1, x, prefix: key("p1_1")), prefix: prefix)
        let p21 = context.relu(try context.conv(p2_1, x, prefix: key("p2_1")), prefix: prefix)
        let p2 = context.relu(try context.conv(p2_2, p21, prefix: key("p2_2")), prefix: prefix)
        let p31 = context.relu(try context.conv(p3_1, x, prefix: key("p3_1")), prefix: prefix)
        let p3 = context.relu(try context.conv(p3_2, p31, prefix: key("p3_2")), prefix: prefix)
        let p41 = try context.lower(p4_1, x, prefix: key("p4_1"))
        let p4 = context.relu(try context.conv(p4_2, p41, prefix: key("p4_2")), prefix: prefix)
        return try context.concatChannels([p1, p2, p3, p4], prefix: prefix)
    }
}

/// conv1/bn1, `Relu`, conv2/bn2, `Add` of the (conv3) shortcut, `Relu`.
extension Residual: ONNXLowerable {
    public func lower(_ x: ONNXExportValue, prefix: String, into context: inout ONNXExportContext) throws -> ONNXExportValue {
        func key(_ name: String) -> String { ONNXExportContext.key(prefix, name) }
        var y = try context.convBatchNorm(conv1, x, prefix: key("conv1"), bn1, prefix: key("bn1"))
        y = context.relu(y, prefix: prefix)
        y = try context.convBatchNorm(conv2, y, prefix: key("conv2"), bn2, prefix: key("bn2"))
        let shortcut = try conv3.map { try context.conv($0, x, prefix: key("conv3")) } ?? x
        return context.relu(try context.add(y, shortcut, prefix: prefix), prefix: prefix)
    }
}

/// Each conv block's output `Concat`ed to its input on the channels.
extension DenseBlock: ONNXLowerable {
    public func lower(_ input: ONNXExportValue, prefix: String, into context: inout ONNXExportContext) throws -> ONNXExportValue {
        var x = input
        let netKey = ONNXExportContext.key(prefix, "net")
        for (i, block) in net.layers.enumerated() {
            let y = try context.lower(block, x, prefix: ONNXExportContext.key(netKey, String(i)))
            x = try context.concatChannels([x, y], prefix: prefix)
        }
        return x
    }
}

/// conv1/bn1, `Relu`, conv2/bn2, `Add` of the (downsampled) identity, `Relu`.
extension BasicBlock: ONNXLowerable {
    public func lower(_ x: ONNXExportValue, prefix: String, into context: inout ONNXExportContext) throws -> ONNXExportValue {
        func key(_ name: String) -> String { ONNXExportContext.key(prefix, name) }
        var out = try context.convBatchNorm(conv1, x, prefix: key("conv1"), bn1, prefix: key("bn1"))
        out = context.relu(out, prefix: key("relu"))
        out = try context.convBatchNorm(conv2, out, prefix: key("conv2"), bn2, prefix: key("bn2"))
        let identity = try downsample.map { try context.lower($0, x, prefix: key("downsample")) } ?? x
        return context.relu(try context.add(out, identity, prefix: prefix), prefix: key("relu"))
    }
}

extension TorchvisionResNet: ONNXLowerable {
    public func lower(_ input: ONNXExportValue, prefix: String, into context: inout ONNXExportContext) throws -> ONNXExportValue {
        func key(_ name: String) -> String { ONNXExportContext.key(prefix, name) }
        var x = try context.convBatchNorm(conv1, input, prefix: key("conv1"), bn1, prefix: key("bn1"))
        x = context.relu(x, prefix: key("relu"))
        x = try context.lower(maxpool, x, prefix: key("maxpool"))
        for (name, layer) in [("layer1", layer1), ("layer2", layer2), ("layer3", layer3), ("layer4", layer4)] {
            x = try context.lower(layer, x, prefix: key(name))
        }
        x = try context.lower(avgpool, x, prefix: key("avgpool"))
        x = try context.flatten(x, startAxis: 1, prefix: prefix)
        return try context.linear(fc, x, prefix: key("fc"))
    }
}
