import XCTest
@testable import D2L

/// Resize, CenterCrop, ToTensor, Normalize, RandomResizedCrop's resize and ColorJitter's
/// adjustments against PIL / torchvision (Tests/Fixtures/toolkit/transforms, written by
/// tools/fixtures/make-transform-fixtures).
final class DataTransformTests: XCTestCase {
    /// One 8-bit level, plus float slack.
    static let level: Float = 1 / 255 + 1e-6

    private func fixture() throws -> SafeTensorsFile { try loadFixture("transforms/transforms.safetensors") }

    /// A fixture tensor stored HWC (PIL's layout) as a CHW image; U8 values are divided by 255.
    private func image(_ name: String, in f: SafeTensorsFile) throws -> Image {
        guard let t = f[name], t.shape.count == 3 else {
            throw ToolkitError(.invalidData, "fixture has no HWC tensor \(name)")
        }
        let (h, w, c) = (t.shape[0], t.shape[1], t.shape[2])
        let scale: Float = t.dtype == .U8 ? 1 / 255 : 1
        let hwc = try t.floats()
        var chw = [Float](repeating: 0, count: hwc.count)
        for y in 0..<h { for x in 0..<w { for k in 0..<c { chw[(k * h + y) * w + x] = hwc[(y * w + x) * c + k] * scale } } }
        return try Image(channels: c, height: h, width: w, pixels: chw)
    }

    /// Asserts equal sizes and |a − b| ≤ tolerance everywhere.
    private func assertImagesClose(_ a: Image, _ b: Image, _ tolerance: Float, _ what: String,
                                   file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual([a.channels, a.height, a.width], [b.channels, b.height, b.width], "\(what): size", file: file, line: line)
        guard a.pixels.count == b.pixels.count else { return }
        let worst = zip(a.pixels, b.pixels).map { Swift.abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, tolerance, "\(what): largest difference \(worst * 255) levels", file: file, line: line)
    }

    private func sizes(_ key: String, in f: SafeTensorsFile) -> [(Int, Int)] {
        f.names.filter { $0.hasPrefix(key + ".") }.map { name in
            let parts = name.dropFirst(key.count + 1).split(separator: "x").map { Int($0)! }
            return (parts[0], parts[1])
        }
    }

    func testResizeMatchesPILBilinear() throws {
        let f = try fixture()
        let input = try image("input", in: f)
        let cases = sizes("resize", in: f)
        XCTAssertGreaterThanOrEqual(cases.count, 8)
        for (h, w) in cases {
            let out = try Resize(height: h, width: w)(input)
            // PIL on 8 bits rounds each pass: within one level.
            assertImagesClose(out, try image("resize.\(h)x\(w)", in: f), Self.level, "resize \(h)x\(w) vs PIL uint8")
        }
        let floatCases = sizes("resizef", in: f)
        XCTAssertGreaterThanOrEqual(floatCases.count, 4)
        for (h, w) in floatCases {
            let out = try Resize(height: h, width: w)(input)
            // PIL's "F" mode does the same arithmetic in floats.
            assertImagesClose(out, try image("resizef.\(h)x\(w)", in: f), 2e-6, "resize \(h)x\(w) vs PIL float")
        }
    }

    func testResizeShorterSideAsTorchvision() throws {
        let r9 = try Resize(9), r34 = try Resize(34)
        XCTAssertTrue(r9.outputSize(imageHeight: 17, imageWidth: 23) == (9, 12))  // int(9·23/17) = 12
        XCTAssertTrue(r34.outputSize(imageHeight: 17, imageWidth: 23) == (34, 46))
        XCTAssertTrue(try Resize(256).outputSize(imageHeight: 500, imageWidth: 375) == (341, 256))  // 341.33
        XCTAssertTrue(try Resize(10).outputSize(imageHeight: 7, imageWidth: 7) == (10, 10))
        let f = try fixture()
        let input = try image("input", in: f)
        assertImagesClose(r9(input), try image("resize.9x12", in: f), Self.level, "Resize(9)")
        let same = try Resize(17)(input)
        XCTAssertEqual([same.height, same.width], [17, 23])
        XCTAssertEqual(same, input)
    }

    func testCenterCropMatchesTorchvision() throws {
        let f = try fixture()
        let input = try image("input", in: f)
        let cases = sizes("centercrop", in: f)
        XCTAssertGreaterThanOrEqual(cases.count, 6)
        for (h, w) in cases {
            // Crops and zero padding copy 8-bit values: exact.
            assertImagesClose(try CenterCrop(height: h, width: w)(input), try image("centercrop.\(h)x\(w)", in: f),
                              0, "center crop \(h)x\(w)")
        }
        // round((17 − 10) / 2) = round(3.5) = 4 (half to even), round((23 − 12) / 2) = round(5.5) = 6.
        let crop = try CenterCrop(height: 10, width: 12)(input)
        XCTAssertEqual(crop[0, 0, 0], input[0, 4, 6])
    }

    func testRandomResizedCropResizesItsBoxAsPIL() throws {
        let f = try fixture()
        let input = try image("input", in: f)
        let names = f.names.filter { $0.hasPrefix("rrc.") }
        XCTAssertEqual(names.count, 3)
        for name in names {
            let parts = name.split(separator: ".")
            let (top, left, h, w) = (Int(parts[1])!, Int(parts[2])!, Int(parts[3])!, Int(parts[4])!)
            let size = parts[5].split(separator: "x").map { Int($0)! }
            let out = input.cropped(top: top, left: left, height: h, width: w).resampled(height: size[0], width: size[1])
            assertImagesClose(out, try image(name, in: f), Self.level, name)
        }
        // The transform resizes the box it draws that way.
        let transform = try RandomResizedCrop(height: 7, width: 9)
        for seed in 0..<5 as Range<UInt64> {
            var a = SeededGenerator(seed: seed), b = SeededGenerator(seed: seed)
            let box = transform.cropRectangle(imageHeight: 17, imageWidth: 23, using: &a)
            let expected = input.cropped(top: box.top, left: box.left, height: box.height, width: box.width)
                .resampled(height: 7, width: 9)
            XCTAssertEqual(transform(input, using: &b), expected)
        }
        // The fallback (scale > 1: no attempt fits) is the whole image clipped to the ratio
        // range, centred: 23/17 > 1 → h = 17, w = round(17 · 1) = 17, left = (23 − 17) / 2 = 3.
        var rng = SeededGenerator(seed: 3)
        let fallback = try RandomResizedCrop(height: 4, width: 4, scale: (2, 3), ratio: (1, 1))
        XCTAssertTrue(fallback.cropRectangle(imageHeight: 17, imageWidth: 23, using: &rng) == (0, 3, 17, 17))
        let tall = try RandomResizedCrop(height: 4, width: 4, scale: (2, 3), ratio: (1.5, 2))
        // 23/17 < 1.5 → w = 23, h = round(23 / 1.5) = round(15.33) = 15, top = (17 − 15) / 2 = 1.
        XCTAssertTrue(tall.cropRectangle(imageHeight: 17, imageWidth: 23, using: &rng) == (1, 0, 15, 23))
    }

    func testColorAdjustmentsMatchTorchvision() throws {
        let f = try fixture()
        let input = try image("input", in: f)
        func adjust(_ kind: String, _ factor: Float) -> Image {
            switch kind {
            case "brightness": return ColorJitter.adjustBrightness(input, factor: factor)
            case "contrast": return ColorJitter.adjustContrast(input, factor: factor)
            case "saturation": return ColorJitter.adjustSaturation(input, factor: factor)
            default: return ColorJitter.adjustHue(input, shift: factor)
            }
        }
        var checked = 0
        for name in f.names {
            for kind in ["brightness", "contrast", "saturation", "hue"] {
                if name.hasPrefix("t" + kind + ".") {
                    // torchvision's float-tensor functions: the same arithmetic in float32.
                    let factor = Float(name.dropFirst(kind.count + 2))!
                    assertImagesClose(adjust(kind, factor), try image(name, in: f), 2e-6, name)
                    checked += 1
                } else if name.hasPrefix(kind + ".") && kind != "hue" {
                    // torchvision's PIL functions (ImageEnhance): 8-bit blends that truncate,
                    // a rounded grayscale with weights 0.299/0.587/0.114: within 1.5 levels.
                    let factor = Float(name.dropFirst(kind.count + 1))!
                    assertImagesClose(adjust(kind, factor), try image(name, in: f), 1.5 / 255, name)
                    checked += 1
                }
            }
        }
        XCTAssertEqual(checked, 5 + 7)
    }

    func testToTensorAndNormalize() throws {
        let f = try fixture()
        let input = try image("input", in: f)
        let tensor = ToTensor()(input)
        XCTAssertEqual(tensor.shape, [3, 17, 23])
        XCTAssertEqual(tensor.scalars, input.pixels)
        let normalized = try ImageNetStatistics.normalize(tensor)
        assertClose(normalized, try f.tensor("normalize"), atol: 1e-6, rtol: 1e-6, "normalize")
        let batch = try ToTensor().batch([input, RandomHorizontalFlip.flip(input)])
        XCTAssertEqual(batch.shape, [2, 3, 17, 23])
        let both = try ImageNetStatistics.normalize(batch)
        XCTAssertEqual(Array(both.scalars[0..<tensor.count]), normalized.scalars)
    }

    func testBadArgumentsThrow() throws {
        assertDataToolkitError(.invalidArgument, containing: ["Resize", "0"]) { _ = try Resize(0) }
        assertDataToolkitError(.invalidArgument, containing: ["Resize"]) { _ = try Resize(height: 3, width: -1) }
        assertDataToolkitError(.invalidArgument, containing: ["CenterCrop"]) { _ = try CenterCrop(0) }
        assertDataToolkitError(.invalidArgument, containing: ["Normalize", "2 and 3"]) {
            _ = try Normalize(mean: [0, 0], std: [1, 1, 1])
        }
        assertDataToolkitError(.invalidArgument, containing: ["Normalize", "std must be positive"]) {
            _ = try Normalize(mean: [0], std: [0])
        }
        assertDataToolkitError(.invalidArgument, containing: ["Normalize"]) { _ = try Normalize(mean: [], std: []) }
        let gray = try Image(channels: 1, height: 2, width: 2, pixels: [0, 0.25, 0.5, 1])
        assertDataToolkitError(.shape, containing: ["Normalize", "C = 3"]) {
            _ = try ImageNetStatistics.normalize(ToTensor()(gray))
        }
        let rgb = try Image(channels: 3, height: 2, width: 2, pixels: [Float](repeating: 0.5, count: 12))
        assertDataToolkitError(.shape, containing: ["ToTensor.batch", "image 1"]) { _ = try ToTensor().batch([rgb, gray]) }
        assertDataToolkitError(.invalidArgument, containing: ["no images"]) { _ = try ToTensor().batch([]) }
        assertDataToolkitError(.invalidArgument, containing: ["resizeAntialiased"]) {
            _ = try resizeAntialiased([1], planes: 1, height: 1, width: 1, outputHeight: 0, outputWidth: 2)
        }
        assertDataToolkitError(.shape, containing: ["resizeAntialiased"]) {
            _ = try resizeAntialiased([1, 2], planes: 1, height: 1, width: 1, outputHeight: 2, outputWidth: 2)
        }
        assertDataToolkitError(.invalidArgument, containing: ["unknown pipeline", "finetune-test"]) {
            _ = try ImagePipelines.named("bogus")
        }
    }

    func testNamedPipelines() throws {
        let f = try fixture()
        let input = try image("input", in: f)
        var rng = SeededGenerator(seed: 11)
        for name in ImagePipelines.names {
            let out = try ImagePipelines.named(name, size: 8)(input, using: &rng)
            let expected = ["none", "flip"].contains(name) ? [3, 17, 23] : [3, 8, 8]
            XCTAssertEqual(out.shape, expected, name)
        }
        // finetune-test at 224: Resize([256, 256]) then CenterCrop(224), normalised.
        let test = try ImagePipelines.named("finetune-test")
        let out = try test(input, using: &rng)
        XCTAssertEqual(out.shape, [3, 224, 224])
        let manual = try ImageNetStatistics.normalize(
            ToTensor()(try CenterCrop(224)(try Resize(height: 256, width: 256)(input))))
        XCTAssertEqual(out.scalars, manual.scalars)
    }

    func testAntialiasedUpsamplingIsHalfPixelBilinear() throws {
        // Upsampling: PIL's filter is F.interpolate(align_corners=False)'s bilinear.
        let pixels: [Float] = [0, 1, 2, 3, 4, 5]
        let pil = try resizeAntialiased(pixels, planes: 1, height: 2, width: 3, outputHeight: 5, outputWidth: 7)
        let torch = try resizeBilinear(pixels, planes: 1, height: 2, width: 3, outputHeight: 5, outputWidth: 7)
        for (a, b) in zip(pil, torch) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        // Downsampling 4 → 1 averages all four (a box wider than bilinear's two taps).
        let down = try resizeAntialiased([0, 1, 2, 3], planes: 1, height: 1, width: 4, outputHeight: 1, outputWidth: 1)
        XCTAssertEqual(down[0], 1.5, accuracy: 1e-6)
    }
}
