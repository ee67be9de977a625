import Foundation
import XCTest
@testable import D2L

/// The toolkit's checkpoints load with Python's `safetensors` under the keys, shapes and
/// dtypes of the book's PyTorch modules (Tests/Fixtures/toolkit/models/keys.json), so
/// `load_state_dict(safetensors.torch.load_file(path))` restores the PyTorch model.
final class CheckpointInteropTests: XCTestCase {
    func testCheckpointsMatchPyTorchStateDicts() throws {
        let python = ProcessInfo.processInfo.environment["D2L_PYTHON"] ?? "python3"
        let dir = NSTemporaryDirectory() + "d2l-interop-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var checked = 0
        for arch in ["softmax", "mlp", "lenet", "lenet-bn", "resnet18", "densenet"] {
            let model = try Models.make(arch: arch)
            try model.saveCheckpoint(to: "\(dir)/\(arch).safetensors")
            let script = """
            import json, sys
            try:
                from safetensors.numpy import load_file
            except ImportError:
                print("skip"); sys.exit(0)
            state = load_file(sys.argv[1])
            reference = json.load(open(sys.argv[2]))[sys.argv[3]]["state_dict"]
            want = {k: (list(s), d) for k, s, d in reference}
            got = {k: (list(v.shape), {"float32": "F32", "int64": "I64"}[str(v.dtype)]) for k, v in state.items()}
            if want != got:
                print("mismatch", sorted(k for k in set(want) | set(got) if want.get(k) != got.get(k)))
                sys.exit(1)
            print("ok", len(got))
            """
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [python, "-c", script, "\(dir)/\(arch).safetensors", toolkitFixture("models/keys.json"), arch]
            let out = Pipe()
            process.standardOutput = out
            process.standardError = out
            do { try process.run() } catch { throw XCTSkip("python3 is not available") }
            let text = String(data: out.fileHandleForReading.readDataToEndOfFile(), encoding: .utf8) ?? ""
            process.waitUntilExit()
            if text.hasPrefix("skip") { throw XCTSkip("python safetensors is not installed") }
            XCTAssertEqual(process.terminationStatus, 0, "\(arch): \(text)")
            XCTAssertTrue(text.hasPrefix("ok"), "\(arch): \(text)")
            checked += 1
        }
        XCTAssertEqual(checked, 6)
    }
}
