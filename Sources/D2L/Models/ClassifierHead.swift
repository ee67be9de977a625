// The classifier head of the model zoo's architectures, and replacing it for fine-tuning
// (ch. 13.2: `finetune_net.fc = nn.Linear(finetune_net.fc.in_features, 2)`).

extension Models {
    /// The key of `arch`'s output layer, a `Linear` (the prefix of its state-dict keys):
    /// `fc` for `torchvision-resnet18`, `output` for `mlp-block`, the last position of the
    /// `Sequential` for the others (`7` for `resnet18`, `11` for `lenet`).
    /// - Throws: `ToolkitError(.invalidArgument)` for an unknown name, or for `nin`, whose
    ///   classes come from a convolution rather than a linear layer.
    public static func classifierHeadName(arch: String) throws -> String {
        switch arch {
        case "torchvision-resnet18": return "fc"
        case "mlp-block": return "output"
        case "softmax": return "1"
        case "mlp": return "3"
        case "lenet": return "11"
        case "lenet-bn": return "15"
        case "alexnet": return "20"
        case "vgg11": return "12"
        case "googlenet": return "5"
        case "resnet18": return "7"
        case "densenet": return "12"
        case "nin":
            throw ToolkitError(.invalidArgument, "nin has no linear classifier head (its last NiN block's convolution gives the classes)")
        default: throw unknownArchitecture(arch)
        }
    }

    /// Replaces the output layer of `model` (built by `make(arch: arch, …)`) with a new
    /// `Linear(inFeatures, classes)` and returns it: the weight Xavier-uniform
    /// (`nn.init.xavier_uniform_(finetune_net.fc.weight)`, as the book), the bias
    /// PyTorch's default U(±1/√inFeatures). The model's forward, parameters, state
    /// dictionary, checkpoints and ONNX export use the new layer.
    /// - Throws: `ToolkitError(.invalidArgument)` when `classes` is not positive, `arch`
    ///   has no linear head, or `model` is not an `arch` model.
    @discardableResult
    public static func replaceClassifierHead(of model: Module, arch: String, classes: Int) throws -> Linear {
        guard classes >= 1, classes <= limits.classes else {
            throw ToolkitError(.invalidArgument, "\(arch): the number of classes must be in 1...\(limits.classes), got \(classes)")
        }
        let name = try classifierHeadName(arch: arch)
        guard let old = model.child(named: name) as? Linear else {
            throw ToolkitError(.invalidArgument,
                               "\(arch): the model (\(type(of: model))) has no Linear output layer '\(name)'; is it a \(arch)?")
        }
        let head = Linear(old.inFeatures, classes, bias: old.bias != nil)
        Initializer.xavierUniform().apply(to: head.weight)
        try model.replaceChild(named: name, with: head)
        return head
    }
}
