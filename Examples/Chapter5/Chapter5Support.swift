import D2L

/// A module as PyTorch prints it (`print(rgnet)`): `Linear(in_features=4, out_features=8, bias=True)`,
/// `ReLU()`, and a container as its class name with each child on its own line,
/// `(name): child`, indented by two spaces per level.
func moduleDescription(_ module: Module) -> String {
    let name: String
    switch module {
    case let linear as Linear:
        name = "Linear(in_features=\(linear.inFeatures), out_features=\(linear.outFeatures), bias=\(linear.bias == nil ? "False" : "True"))"
    case let dropout as Dropout:
        name = "Dropout(p=\(dropout.p), inplace=False)"
    case is Flatten:
        name = "Flatten(start_dim=1, end_dim=-1)"
    default:
        name = String(describing: type(of: module)) + "()"
    }
    guard !module.children.isEmpty else { return name }
    let lines = module.children.map { child in
        "  (\(child.name)): " + moduleDescription(child.module).split(separator: "\n", omittingEmptySubsequences: false)
            .joined(separator: "\n  ")
    }
    return String(name.dropLast()) + "\n" + lines.joined(separator: "\n") + "\n)"
}

/// A shape as `[8, 4]` (PyTorch's `torch.Size([8, 4])`).
func shapeText(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }

/// `name [shape]` for every named parameter, one per line (the book's
/// `print(*[(name, param.shape) for name, param in net.named_parameters()])`).
func parameterLines(_ module: Module) -> [String] {
    module.namedParameters().map { "\($0.name) \(shapeText($0.parameter.shape))" }
}

/// The `Linear` at position `index` of a `Sequential` (the book's `net[2]`).
func linearLayer(_ net: Sequential, _ index: Int) -> Linear {
    guard let layer = net[index] as? Linear else { fatalError("net[\(index)] is a \(type(of: net[index])), not a Linear") }
    return layer
}
