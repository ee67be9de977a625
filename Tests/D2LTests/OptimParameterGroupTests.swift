import XCTest
@testable import D2L

/// Parameter groups (`torch.optim.SGD([{"params": w, "weight_decay": 3}, {"params": b}])`):
/// 5 steps of a Linear(6, 3) on MSE against PyTorch (tools/fixtures/make-optimizer-fixtures):
/// the losses, the final weights and the optimizer state, numbered across groups.
final class OptimParameterGroupTests: XCTestCase {
    private func run(_ name: String, _ makeOptimizer: (Linear) throws -> any Optimizer) throws {
        let f = try loadFixture("optim/param-groups.safetensors")
        let net = Linear(6, 3)
        try net.loadStateDict(try f.state())
        let x = try f.tensor("x"), y = try f.tensor("y")
        let optimizer = try makeOptimizer(net)
        var losses: [Float] = []
        for _ in 0..<5 {
            optimizer.zeroGrad()
            let loss = try mseLoss(try net(x), y)
            losses.append(loss.item)
            loss.backward()
            optimizer.step()
        }
        assertClose(Tensor(losses), try f.tensor("\(name).losses"), atol: 1e-6, rtol: 1e-5, "\(name) losses")
        assertClose(net.weight.value.detached(), try f.tensor("\(name).final.weight"), atol: 1e-6, rtol: 1e-5, "\(name) weight")
        assertClose(net.bias!.value.detached(), try f.tensor("\(name).final.bias"), atol: 1e-6, rtol: 1e-5, "\(name) bias")
        let prefix = "\(name).state."
        let expected = f.names.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
        let entries = optimizer.stateEntries()
        XCTAssertEqual(Set(entries.map(\.name)), Set(expected), "\(name): state entry names")
        for (entry, values) in entries where expected.contains(entry) {
            assertClose(Tensor(values), try f.tensor(prefix + entry), atol: 1e-6, rtol: 1e-5, "\(name) state \(entry)")
        }
    }

    /// The book's concise weight decay: λ = 3 on the weight only.
    func testSGDWeightDecayOnTheWeightOnly() throws {
        try run("sgd-wd-weight") { net in
            try SGD(groups: [ParameterGroup(parameters: [net.weight], weightDecay: 3),
                             ParameterGroup(parameters: [net.bias!])], learningRate: 0.05)
        }
    }

    func testSGDMomentumWithAGroupLearningRate() throws {
        try run("sgd-momentum-groups") { net in
            try SGD(groups: [ParameterGroup(parameters: [net.weight], learningRate: 0.02, weightDecay: 0.5),
                             ParameterGroup(parameters: [net.bias!])], learningRate: 0.1, momentum: 0.9)
        }
    }

    func testAdamGroups() throws {
        try run("adam-groups") { net in
            try Adam(groups: [ParameterGroup(parameters: [net.weight], weightDecay: 0.1),
                              ParameterGroup(parameters: [net.bias!], learningRate: 0.01)], learningRate: 0.05)
        }
    }

    /// Decay on one group only differs from decay on all (the check can fail).
    func testWeightDecayOnAllParametersDiffersFromTheWeightOnly() throws {
        let f = try loadFixture("optim/param-groups.safetensors")
        let net = Linear(6, 3)
        try net.loadStateDict(try f.state())
        let optimizer = SGD(net.parameters(), learningRate: 0.05, weightDecay: 3)
        for _ in 0..<5 {
            optimizer.zeroGrad()
            try mseLoss(try net(try f.tensor("x")), try f.tensor("y")).backward()
            optimizer.step()
        }
        let reference = try f.tensor("sgd-wd-weight.final.bias")
        XCTAssertGreaterThan((net.bias!.value.detached() - reference).abs().max().item, 1e-3)
    }

    /// The state saved by a grouped optimizer loads into a fresh one, which then steps as
    /// the original does.
    func testStateEntriesRoundTrip() throws {
        func make(_ net: Linear) throws -> SGD {
            try SGD(groups: [ParameterGroup(parameters: [net.weight], weightDecay: 0.5),
                             ParameterGroup(parameters: [net.bias!], learningRate: 0.01)], learningRate: 0.1, momentum: 0.9)
        }
        let x = Tensor.randn([4, 6]), y = Tensor.randn([4, 3])
        let a = Linear(6, 3), b = Linear(6, 3)
        try b.loadStateDict(a.stateDict())
        let sgdA = try make(a)
        for _ in 0..<2 { sgdA.zeroGrad(); try mseLoss(try a(x), y).backward(); sgdA.step() }
        try b.loadStateDict(a.stateDict())
        let sgdB = try make(b)
        try sgdB.loadStateEntries(sgdA.stateEntries())
        for (net, sgd) in [(a, sgdA), (b, sgdB)] { sgd.zeroGrad(); try mseLoss(try net(x), y).backward(); sgd.step() }
        XCTAssertEqual(a.weight.value.scalars, b.weight.value.scalars)
        XCTAssertEqual(a.bias!.value.scalars, b.bias!.value.scalars)
    }

    func testAParameterInTwoGroupsIsAnError() {
        let net = Linear(2, 2)
        XCTAssertThrowsError(try SGD(groups: [ParameterGroup(parameters: [net.weight]),
                                              ParameterGroup(parameters: [net.weight, net.bias!])], learningRate: 0.1)) {
            XCTAssertTrue("\($0)".contains("more than one"), "\($0)")
        }
        XCTAssertThrowsError(try Adam(groups: [ParameterGroup(parameters: [net.weight], weightDecay: -1)]))
        XCTAssertThrowsError(try SGD(groups: [ParameterGroup(parameters: [net.weight], learningRate: .nan)], learningRate: 0.1))
    }

    /// A schedule that changes `learningRate` moves the groups without their own only.
    func testGroupsWithoutTheirOwnLearningRateFollowTheOptimizers() throws {
        let p = Parameter(Tensor([1])), q = Parameter(Tensor([1]))
        let sgd = try SGD(groups: [ParameterGroup(parameters: [p]), ParameterGroup(parameters: [q], learningRate: 0.5)],
                          learningRate: 0.1)
        sgd.learningRate = 0.2
        (p.value * 1 + q.value * 1).sum().backward()
        sgd.step()
        XCTAssertEqual(p.value.item, 0.8, accuracy: 1e-7)
        XCTAssertEqual(q.value.item, 0.5, accuracy: 1e-7)
        XCTAssertEqual(sgd.parameters.count, 2)
    }
}
