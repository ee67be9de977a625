/// Parameters that an optimizer updates with their own settings (a PyTorch parameter
/// group, `{"params": net[0].weight, "weight_decay": wd}`): a `nil` learning rate or
/// weight decay takes the optimizer's. The book's concise weight decay decays the
/// weights only:
///
///     let sgd = try SGD(groups: [ParameterGroup(parameters: [linear.weight], weightDecay: 3),
///                                ParameterGroup(parameters: [linear.bias!])], learningRate: 0.003)
public struct ParameterGroup {
    /// The group's parameters, in the order the optimizer numbers them.
    public var parameters: [Parameter]
    /// The group's learning rate; nil: the optimizer's `learningRate` (which a schedule may change).
    public var learningRate: Float?
    /// The group's weight decay λ (d = g + λ·w); nil: the optimizer's.
    public var weightDecay: Float?

    public init(parameters: [Parameter], learningRate: Float? = nil, weightDecay: Float? = nil) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.weightDecay = weightDecay
    }
}

/// The groups' parameters in order (an optimizer's `parameters`, numbered across groups as
/// PyTorch's optimizer state numbers them) and each one's group index.
/// - Throws: `ToolkitError(.invalidArgument)` when a parameter is in two groups (or twice
///   in one), or a learning rate or weight decay is negative or not finite.
func flattenGroups(_ groups: [ParameterGroup]) throws -> (parameters: [Parameter], groupIndex: [Int]) {
    var parameters: [Parameter] = [], groupIndex: [Int] = []
    var seen = Set<ObjectIdentifier>()
    for (index, group) in groups.enumerated() {
        for (name, value) in [("learning rate", group.learningRate), ("weight decay", group.weightDecay)] {
            if let value, !(value >= 0 && value.isFinite) {
                throw ToolkitError(.invalidArgument, "parameter group \(index): \(name) must be finite and ≥ 0, got \(value)")
            }
        }
        for p in group.parameters {
            guard seen.insert(ObjectIdentifier(p)).inserted else {
                throw ToolkitError(.invalidArgument,
                                   "parameter group \(index): a parameter of shape \(p.shape) appears in more than one place")
            }
            parameters.append(p)
            groupIndex.append(index)
        }
    }
    return (parameters, groupIndex)
}
