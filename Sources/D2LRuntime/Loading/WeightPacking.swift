import _D2LSystem

// Load-time packing of constant convolution weights.
//
// A Conv whose W is a float32 constant read by nothing but Conv nodes (as W, with the same
// `group`) gets W rewritten in place, in the weight arena, into the layout
// `packConv2dWeight` makes for `ConvWeightLayout.preferred`: each group's
// [outputChannelsPerGroup, icg·kh·kw] matrix in depth-major tiles of 6 rows or panels of
// 16 rows. The gemm then reads the weights contiguously instead of from rows a whole row
// apart. The layout has the weight's
// size, so packing costs no memory beyond one weight's temporary copy during the load.
// The Conv operator records the layout; nothing else may read a packed tensor, so
// weights shared with other operators (or graph outputs, or whose bytes another constant
// aliases) are left as they are.

extension Graph {
    /// Load-time preparation of constant convolution weights: first the Winograd
    /// transform (a new buffer) for Conv nodes whose load-time plan (`planned`, graph node
    /// order; nil when the model could not be planned at load) `winogradApplies` to, then
    /// the in-place packing. Throws D2L_ERR_OUT_OF_MEMORY when a buffer cannot be allocated.
    func prepareConvolutionWeights(planned: [Operator]?) throws(D2LError) {
        let known = planned.flatMap { $0.count == nodes.count ? $0 : nil }
        if let known { try prepareWinograd(known) }
        try packConvolutionWeights(planned: known)
    }

    /// Gives every Conv node with a constant float32 weight whose planned geometry
    /// `winogradApplies` to its transformed weight (one buffer per weight value).
    private func prepareWinograd(_ planned: [Operator]) throws(D2LError) {
        var transformed: [Int: AlignedBuffer] = [:]
        for (index, node) in nodes.enumerated() {
            guard case .conv(var conv) = node.op, case .conv(let plannedConv) = planned[index],
                  node.inputs.count > 1, let w = node.inputs[1], case .constant(let t) = values[w].source,
                  t.dtype == .float32 else { continue }
            let g = plannedConv.geometry
            guard winogradApplies(g), t.elementCount == g.outputChannels * g.inputChannels * 9 else { continue }
            let buffer: AlignedBuffer
            if let made = transformed[w] {
                buffer = made
            } else {
                buffer = try AlignedBuffer(byteCount: winogradWeightElements(g) * 4)
                packWinogradWeight(g, UnsafePointer(t.pointer.assumingMemoryBound(to: Float.self)),
                                   into: buffer.pointer.assumingMemoryBound(to: Float.self))
                transformed[w] = buffer
            }
            conv.winogradWeight = buffer
            replaceOperator(at: index, with: .conv(conv))
        }
    }

    /// Packs the weights of every Conv node that qualifies (see above) and marks the nodes;
    /// the layout follows the load-time plan's output sizes when there is one.
    /// Throws D2L_ERR_OUT_OF_MEMORY when the temporary copy cannot be allocated.
    private func packConvolutionWeights(planned: [Operator]?) throws(D2LError) {
        // Per value: the group of every Conv reading it as W; nil once anything else reads it.
        var convGroups = [Int?](repeating: nil, count: values.count)
        var otherUse = [Bool](repeating: false, count: values.count)
        // Per value: the most output positions of the Convs reading it (load-time plan).
        var positions = [Int?](repeating: nil, count: values.count)
        for (index, node) in nodes.enumerated() {
            for (position, id) in node.inputs.enumerated() {
                guard let id else { continue }
                if position == 1, case .conv(let conv) = node.op {
                    if let g = convGroups[id], g != conv.group { otherUse[id] = true }
                    convGroups[id] = conv.group
                    if let planned, case .conv(let plannedConv) = planned[index] {
                        let n = plannedConv.geometry.outputHeight * plannedConv.geometry.outputWidth
                        positions[id] = max(positions[id] ?? 0, n)
                    }
                } else {
                    otherUse[id] = true
                }
            }
        }
        for id in outputValues { otherUse[id] = true }

        // Byte ranges of every constant, to refuse packing bytes another value also reads.
        var ranges: [(id: Int, start: Int, end: Int)] = []
        for (id, value) in values.enumerated() {
            guard case .constant(let t) = value.source else { continue }
            let start = Int(bitPattern: t.pointer)
            ranges.append((id: id, start: start, end: start + t.byteCount))
        }

        var layouts = [ConvWeightLayout](repeating: .plain, count: values.count)
        for (id, value) in values.enumerated() {
            guard let group = convGroups[id], !otherUse[id], case .constant(let t) = value.source,
                  t.dtype == .float32, t.shape.count >= 3, group >= 1,
                  t.shape[0] % group == 0, t.elementCount > 0 else { continue }
            let start = Int(bitPattern: t.pointer), end = start + t.byteCount
            if ranges.contains(where: { $0.id != id && $0.start < end && start < $0.end }) { continue }
            let rows = t.shape[0] / group
            let depth = t.elementCount / t.shape[0]
            let copy = try AlignedBuffer(byteCount: t.byteCount)
            memcpy(copy.pointer, t.pointer, t.byteCount)
            let source = UnsafePointer(copy.pointer.assumingMemoryBound(to: Float.self))
            let destination = t.pointer.assumingMemoryBound(to: Float.self)
            let layout = ConvWeightLayout.preferred(outputChannelsPerGroup: rows, depth: depth, positions: positions[id])
            packConvWeightGroups(source, groups: group, rows: rows, depth: depth, layout: layout, into: destination)
            layouts[id] = layout
        }
        for (index, node) in nodes.enumerated() {
            guard node.inputs.count > 1, let w = node.inputs[1], layouts[w] != .plain,
                  case .conv(var conv) = node.op else { continue }
            conv.weightLayout = layouts[w]
            replaceOperator(at: index, with: .conv(conv))
        }
    }
}
