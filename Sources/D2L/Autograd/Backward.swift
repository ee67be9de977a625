extension Tensor {
    /// Back-propagates from this tensor: every leaf it depends on that requires
    /// gradients gets d(self)/d(leaf) added to its `grad` (accumulating across calls, as
    /// in PyTorch; clear with `zeroGrad`). A non-scalar needs `gradient`, the gradient of
    /// some scalar with respect to this tensor (same shape).
    public func backward(_ gradient: Tensor? = nil) {
        guard let root = node else {
            preconditionFailure("backward(): the tensor does not require gradients (no input of it had requiresGrad)")
        }
        let seed: Tensor
        if let gradient {
            precondition(gradient.shape == shape,
                         "backward(): gradient of shape \(gradient.shape) for a tensor of shape \(shape)")
            seed = gradient.detached()
        } else {
            precondition(count == 1, "backward(): a tensor of shape \(shape) needs an explicit gradient (only one-element tensors have an implicit one)")
            seed = Tensor.ones(shape)
        }
        withNoGrad { Tensor.propagate(from: root, seed: seed) }
    }

    /// Walks the graph below `root` in reverse topological order.
    private static func propagate(from root: GradNode, seed: Tensor) {
        // Topological order by iterative depth-first search.
        var order: [GradNode] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(GradNode, Int)] = [(root, 0)]
        visited.insert(ObjectIdentifier(root))
        while let (node, next) = stack.popLast() {
            if next < node.inputs.count {
                stack.append((node, next + 1))
                if let input = node.inputs[next], visited.insert(ObjectIdentifier(input)).inserted {
                    stack.append((input, 0))
                }
            } else {
                order.append(node)
            }
        }
        var pending: [ObjectIdentifier: Tensor] = [ObjectIdentifier(root): seed]
        for node in order.reversed() {
            guard let gradient = pending.removeValue(forKey: ObjectIdentifier(node)) else { continue }
            guard let backward = node.backward else {
                node.grad = node.grad.map { $0 + gradient } ?? gradient
                continue
            }
            let inputGrads = backward(gradient)
            for (input, inputGrad) in zip(node.inputs, inputGrads) {
                guard let input, let inputGrad else { continue }
                let key = ObjectIdentifier(input)
                pending[key] = pending[key].map { $0 + inputGrad } ?? inputGrad
            }
        }
    }
}
