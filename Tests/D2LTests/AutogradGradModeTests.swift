import D2L
import Foundation
import XCTest

/// `withNoGrad` is per thread, as PyTorch's `torch.no_grad()`: one thread inside it does
/// not stop another from recording.
final class AutogradGradModeTests: XCTestCase {
    func testNoGradOnOneThreadLeavesAnotherRecording() {
        let inside = DispatchSemaphore(value: 0), checked = DispatchSemaphore(value: 0)
        let noGradThreadRecorded = LockedFlag(), otherThreadRecorded = LockedFlag()
        let done = DispatchGroup()
        done.enter()
        Thread.detachNewThread {
            withNoGrad {
                let x = Tensor([1, 2]).requiringGrad()
                noGradThreadRecorded.set((x * 2).requiresGrad)
                inside.signal()
                checked.wait()  // stay inside withNoGrad while the other thread computes
            }
            done.leave()
        }
        done.enter()
        Thread.detachNewThread {
            inside.wait()
            let x = Tensor([1, 2]).requiringGrad()
            let y = (x * 3).sum()
            otherThreadRecorded.set(y.requiresGrad)
            checked.signal()
            done.leave()
        }
        XCTAssertEqual(done.wait(timeout: .now() + 30), .success)
        XCTAssertEqual(noGradThreadRecorded.value, false, "inside withNoGrad nothing is recorded")
        XCTAssertEqual(otherThreadRecorded.value, true, "another thread's withNoGrad turned recording off here")
    }

    func testNoGradNestsAndRestores() throws {
        let x = Tensor([1, 2]).requiringGrad()
        withNoGrad {
            withNoGrad { XCTAssertFalse((x * 2).requiresGrad) }
            XCTAssertFalse((x * 2).requiresGrad)
        }
        XCTAssertTrue((x * 2).requiresGrad)
        struct Failure: Error {}
        XCTAssertThrowsError(try withNoGrad { throw Failure() })
        XCTAssertTrue((x * 2).requiresGrad, "a throwing body restores recording")
    }
}

/// A Bool set on one thread and read on another.
private final class LockedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Bool?
    func set(_ v: Bool) { lock.lock(); stored = v; lock.unlock() }
    var value: Bool? { lock.lock(); defer { lock.unlock() }; return stored }
}
