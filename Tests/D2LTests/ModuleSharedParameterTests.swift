import XCTest
@testable import D2L

/// A layer used twice (the book's 5.2 `shared = nn.Linear(8, 8)`) is one parameter:
/// listed once by `namedParameters()`, twice (both keys) by the state dictionary, and one
/// SGD step changes it once by −lr·(the sum of both uses' gradients); against PyTorch
/// (tools/fixtures/make-optimizer-fixtures, optim/shared.safetensors).
final class ModuleSharedParameterTests: XCTestCase {
    private func sharedNet() -> (Sequential, Linear) {
        let shared = Linear(8, 8)
        return (Sequential(Linear(4, 8), ReLU(), shared, ReLU(), shared, ReLU(), Linear(8, 1)), shared)
    }

    func testASharedLayerIsListedOnceAndSavedUnderBothKeys() {
        let (net, shared) = sharedNet()
        XCTAssertEqual(net.namedParameters().map(\.name), ["0.weight", "0.bias", "2.weight", "2.bias", "6.weight", "6.bias"])
        XCTAssertEqual(net.parameters().count, 6)
        XCTAssertTrue(net.parameters()[2] === shared.weight)
        XCTAssertEqual(net.parameterCount, 4 * 8 + 8 + 8 * 8 + 8 + 8 + 1)
        XCTAssertEqual(net.stateDict().map(\.name), ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias",
                                                     "6.weight", "6.bias"])
    }

    func testOneSGDStepMatchesPyTorch() throws {
        let f = try loadFixture("optim/shared.safetensors")
        let (net, shared) = sharedNet()
        try net.loadStateDict(try f.state())
        let x = try f.tensor("x")
        let output = try net(x)
        assertClose(output.detached(), try f.tensor("output"), "output")
        output.sum().backward()
        let before = shared.weight.value.detached()
        for (name, p) in net.namedParameters() {
            assertClose(p.grad!, try f.tensor("grad.\(name)"), atol: 1e-6, rtol: 1e-5, "grad \(name)")
        }
        let grad = shared.weight.grad!
        SGD(net.parameters(), learningRate: 0.1).step()
        for (name, p) in net.namedParameters() {
            assertClose(p.value.detached(), try f.tensor("after.\(name)"), atol: 1e-6, rtol: 1e-5, "after \(name)")
        }
        // Exactly one update of −lr·grad (a second update would move it twice as far).
        assertClose(shared.weight.value.detached(), before - 0.1 * grad, atol: 1e-7, rtol: 0, "one update")
        XCTAssertTrue((net[2] as! Linear).weight === (net[4] as! Linear).weight)
    }

    /// The gradient of the shared weight is the sum of both uses': the same weights as two
    /// separate layers give two gradients whose sum is the shared one.
    func testTheSharedGradientIsTheSumOfBothUses() throws {
        let (net, shared) = sharedNet()
        let first = Linear(8, 8), second = Linear(8, 8)
        try first.loadStateDict(shared.stateDict())
        try second.loadStateDict(shared.stateDict())
        let unshared = Sequential(net[0], ReLU(), first, ReLU(), second, ReLU(), net[6])
        let x = Tensor.rand([3, 4])
        try net(x).sum().backward()
        let sharedGrad = shared.weight.grad!
        net.zeroGrad()
        try unshared(x).sum().backward()
        assertClose(sharedGrad, first.weight.grad! + second.weight.grad!, atol: 1e-6, rtol: 1e-5, "sum of both uses")
    }

    /// Loading a state dictionary into a shared module sets the one parameter; the
    /// module's own state dictionary round-trips.
    func testLoadStateDictWithASharedModule() throws {
        let (net, shared) = sharedNet()
        let (other, otherShared) = sharedNet()
        try other.loadStateDict(net.stateDict())
        XCTAssertEqual(otherShared.weight.value.scalars, shared.weight.value.scalars)
        let x = Tensor.rand([2, 4])
        XCTAssertEqual(try net(x).scalars, try other(x).scalars)
        var state = net.stateDict()
        state.removeAll { $0.name == "4.weight" }
        XCTAssertThrowsError(try other.loadStateDict(state)) { XCTAssertTrue("\($0)".contains("4.weight"), "\($0)") }
    }
}
