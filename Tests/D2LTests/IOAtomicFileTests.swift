import Foundation
import XCTest
@testable import D2L

/// A fresh empty directory under the system's temporary directory, removed after the test.
func ioTemporaryDirectory(_ test: XCTestCase) throws -> String {
    let path = NSTemporaryDirectory() + "d2l-io-\(getpid())-\(UInt32.random(in: 0 ... .max))"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
    return path
}

/// Asserts that `body` throws a ToolkitError of `kind` whose message contains every one of `parts`.
func ioAssertThrows<T>(_ kind: ToolkitError.Kind, _ parts: [String], file: StaticString = #filePath, line: UInt = #line,
                       _ body: () throws -> T) {
    do {
        _ = try body()
        XCTFail("expected a \(kind) error", file: file, line: line)
    } catch let error as ToolkitError {
        XCTAssertEqual(error.kind, kind, error.message, file: file, line: line)
        for part in parts {
            XCTAssertTrue(error.message.contains(part), "\"\(error.message)\" should mention \"\(part)\"", file: file, line: line)
        }
    } catch {
        XCTFail("expected a ToolkitError, got \(error)", file: file, line: line)
    }
}

final class IOAtomicFileTests: XCTestCase {
    /// A PID that no process has: a child that has exited and been reaped.
    func deadPID() throws -> pid_t {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        return child.processIdentifier
    }

    func testWritesSweepTemporariesOfDeadProcessesOnly() throws {
        let dir = try ioTemporaryDirectory(self) + "/"
        let dead = try deadPID()
        let stale = [".model.onnx.tmp-\(dead)-123", ".model.onnx.tmp-\(dead)-123.check-5.onnx",
                     "..model.onnx.tmp-\(dead)-123.check-5.onnx.tmp-\(dead)-77"]
        let kept = [".model.onnx.tmp-1-5",            // PID 1 is alive
                    ".model.onnx.tmp-\(getpid())-9",  // this process: maybe another write in progress
                    ".other.onnx.tmp-\(dead)-1",       // another target's
                    "model.onnx.tmp-\(dead)-1", ".model.onnx.tmp-x-1", ".model.onnx.tmp-\(dead)", "notes.txt"]
        for name in stale + kept { try AtomicFile.write([7], to: dir + name) }
        try FileManager.default.createDirectory(atPath: dir + ".model.onnx.tmp-\(dead)-8", withIntermediateDirectories: false)
        try AtomicFile.write([1, 2], to: dir + "model.onnx")
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: dir))
        XCTAssertEqual(left, Set(kept + ["model.onnx", ".model.onnx.tmp-\(dead)-8"]))  // folders are never removed
        XCTAssertEqual(try AtomicFile.read(dir + "model.onnx"), [1, 2])
    }

    func testTemporaryOwnerParsesOnlyTemporaryNames() {
        XCTAssertEqual(AtomicFile.temporaryOwner(".a.onnx.tmp-42-7", target: "a.onnx"), 42)
        XCTAssertEqual(AtomicFile.temporaryOwner("..a.onnx.tmp-42-7.check-1.onnx.tmp-42-9", target: "a.onnx"), 42)
        XCTAssertNil(AtomicFile.temporaryOwner(".a.onnx.tmp-42-7", target: "b.onnx"))
        XCTAssertNil(AtomicFile.temporaryOwner(".a.onnx.tmp--7", target: "a.onnx"))
        XCTAssertNil(AtomicFile.temporaryOwner(".a.onnx.tmp-0-7", target: "a.onnx"))
        XCTAssertNil(AtomicFile.temporaryOwner(".a.onnx.tmp-99999999999999999999-7", target: "a.onnx"))
        XCTAssertNil(AtomicFile.temporaryOwner("a.onnx", target: "a.onnx"))
    }

    func testWritesNewFileAndReplacesExistingOne() throws {
        let dir = try ioTemporaryDirectory(self)
        let path = dir + "/out.bin"
        try AtomicFile.write([1, 2, 3], to: path)
        XCTAssertEqual(try AtomicFile.read(path), [1, 2, 3])
        try AtomicFile.write(text: "héllo\n", to: path)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "héllo\n")
        try AtomicFile.write([], to: path)
        XCTAssertEqual(try AtomicFile.read(path), [])
        // No temporary files left behind.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["out.bin"])
    }

    func testRelativePathInCurrentDirectory() throws {
        let dir = try ioTemporaryDirectory(self)
        let previous = FileManager.default.currentDirectoryPath
        XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath(dir))
        defer { _ = FileManager.default.changeCurrentDirectoryPath(previous) }
        try AtomicFile.write(text: "x", to: "plain.txt")
        XCTAssertEqual(try AtomicFile.read(dir + "/plain.txt"), [UInt8(ascii: "x")])
    }

    func testKeepsPermissionsOfExistingTarget() throws {
        let dir = try ioTemporaryDirectory(self)
        let path = dir + "/script.sh"
        try AtomicFile.write(text: "#!/bin/sh\n", to: path)
        XCTAssertEqual(chmod(path, 0o750), 0)
        try AtomicFile.write(text: "#!/bin/sh\necho\n", to: path)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o750)
    }

    func testMissingDirectoryNamesPathAndReason() throws {
        let dir = try ioTemporaryDirectory(self)
        let path = dir + "/no/such/dir/out.bin"
        ioAssertThrows(.io, [path, "No such file or directory"]) { try AtomicFile.write([1], to: path) }
        ioAssertThrows(.io, [path]) { try AtomicFile.read(path) }
    }

    func testTargetIsDirectory() throws {
        let dir = try ioTemporaryDirectory(self)
        ioAssertThrows(.io, [dir, "directory"]) { try AtomicFile.write([1], to: dir) }
        ioAssertThrows(.io, ["directory"]) { try AtomicFile.write([1], to: dir + "/") }
        ioAssertThrows(.io, ["directory"]) { try AtomicFile.read(dir) }
        ioAssertThrows(.io, ["empty"]) { try AtomicFile.write([1], to: "") }
    }

    func testNoPermissionLeavesTargetUntouchedAndNoTemporaryFile() throws {
        guard getuid() != 0 else { throw XCTSkip("root ignores directory permissions") }
        let dir = try ioTemporaryDirectory(self)
        let path = dir + "/kept.txt"
        try AtomicFile.write(text: "old", to: path)
        XCTAssertEqual(chmod(dir, 0o555), 0)
        defer { chmod(dir, 0o755) }
        ioAssertThrows(.io, [path, "Permission denied"]) { try AtomicFile.write(text: "new", to: path) }
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "old")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["kept.txt"])
    }
}
