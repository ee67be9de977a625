import XCTest
@testable import D2L

final class DataAugmentationTests: XCTestCase {
    /// A deterministic image with values in [0, 1].
    private func sampleImage(channels: Int = 3, height: Int = 12, width: Int = 16, seed: UInt64 = 5) throws -> Image {
        var rng = SeededGenerator(seed: seed)
        return try Image(
            channels: channels, height: height, width: width,
            pixels: (0..<(channels * height * width)).map { _ in rng.nextUniform() })
    }

    func testFlipsAreInvolutions() throws {
        let image = try sampleImage(height: 5, width: 7)
        let h = RandomHorizontalFlip.flip(image)
        XCTAssertNotEqual(h, image)
        XCTAssertEqual(h[1, 2, 0], image[1, 2, 6])
        XCTAssertEqual(RandomHorizontalFlip.flip(h), image)
        let v = RandomVerticalFlip.flip(image)
        XCTAssertEqual(v[2, 0, 3], image[2, 4, 3])
        XCTAssertEqual(RandomVerticalFlip.flip(v), image)

        var rng = SeededGenerator(seed: 1)
        XCTAssertEqual(try RandomHorizontalFlip(p: 1)(image, using: &rng), h)
        XCTAssertEqual(try RandomHorizontalFlip(p: 0)(image, using: &rng), image)
        XCTAssertEqual(try RandomVerticalFlip(p: 1)(image, using: &rng), v)
        XCTAssertEqual(try RandomVerticalFlip(p: 0)(image, using: &rng), image)
        // With p = 0.5 both outcomes occur.
        let flip = try RandomHorizontalFlip()
        let outcomes = Set((0..<50).map { _ in flip(image, using: &rng) == h })
        XCTAssertEqual(outcomes, [true, false])
        assertDataToolkitError(.invalidArgument, containing: ["p must be in [0, 1]"]) { _ = try RandomVerticalFlip(p: 1.5) }
    }

    func testRandomResizedCropOutputSize() throws {
        let crop = try RandomResizedCrop(height: 9, width: 5)
        var rng = SeededGenerator(seed: 3)
        for trial in 0..<50 {
            let image = try sampleImage(channels: trial % 2 == 0 ? 3 : 1, height: 12 + trial % 5, width: 16, seed: UInt64(trial))
            let out = crop(image, using: &rng)
            XCTAssertEqual([out.channels, out.height, out.width], [image.channels, 9, 5])
            XCTAssertEqual(out.pixels.count, image.channels * 45)
            XCTAssertTrue(out.pixels.allSatisfy { $0 >= 0 && $0 <= 1 })
            let box = crop.cropRectangle(imageHeight: image.height, imageWidth: image.width, using: &rng)
            XCTAssertTrue(box.top >= 0 && box.left >= 0 && box.height > 0 && box.width > 0)
            XCTAssertTrue(box.top + box.height <= image.height && box.left + box.width <= image.width)
        }
    }

    func testRandomResizedCropFallbackIsCentred() throws {
        // Impossible scale (the crop would need more than the whole area): centre fallback.
        let crop = try RandomResizedCrop(height: 4, width: 4, scale: (2, 3), ratio: (1, 1))
        var rng = SeededGenerator(seed: 0)
        let box = crop.cropRectangle(imageHeight: 10, imageWidth: 20, using: &rng)
        // in_ratio 2 > max ratio 1: h = 10, w = round(10 · 1) = 10, centred.
        XCTAssertEqual(box.top, 0)
        XCTAssertEqual(box.left, 5)
        XCTAssertEqual(box.height, 10)
        XCTAssertEqual(box.width, 10)
        // Scale (1, 1) and the image's own ratio: the whole image, resized.
        let whole = try RandomResizedCrop(height: 12, width: 16, scale: (1, 1), ratio: (4.0 / 3, 4.0 / 3))
        let image = try sampleImage()
        XCTAssertEqual(whole(image, using: &rng), image)
        assertDataToolkitError(.invalidArgument, containing: ["scale"]) {
            _ = try RandomResizedCrop(height: 4, width: 4, scale: (0.5, 0.1))
        }
    }

    func testColorJitterZeroIsIdentity() throws {
        let jitter = try ColorJitter()
        var rng = SeededGenerator(seed: 11)
        for channels in [1, 3] {
            let image = try sampleImage(channels: channels)
            XCTAssertEqual(jitter(image, using: &rng), image)
        }
        assertDataToolkitError(.invalidArgument, containing: ["hue"]) { _ = try ColorJitter(hue: 0.6) }
        assertDataToolkitError(.invalidArgument, containing: ["brightness"]) { _ = try ColorJitter(brightness: -1) }
    }

    func testColorJitterStaysInRangeAndChangesImage() throws {
        let jitter = try ColorJitter(brightness: 0.5, contrast: 0.5, saturation: 0.5, hue: 0.5)
        var rng = SeededGenerator(seed: 12)
        for channels in [1, 3] {
            let image = try sampleImage(channels: channels)
            for _ in 0..<20 {
                let out = jitter(image, using: &rng)
                XCTAssertEqual([out.channels, out.height, out.width], [image.channels, image.height, image.width])
                XCTAssertTrue(out.pixels.allSatisfy { $0 >= 0 && $0 <= 1 })
                XCTAssertNotEqual(out, image)
            }
        }
    }

    func testColorAdjustmentsMatchTorchvisionFormulas() throws {
        let image = try Image(channels: 3, height: 1, width: 2, pixels: [0.2, 0.9, 0.4, 0.1, 0.6, 0.3])
        let bright = ColorJitter.adjustBrightness(image, factor: 1.5)
        for (a, b) in zip(bright.pixels, [0.3, 1.0, 0.6, 0.15, 0.9, 0.45] as [Float]) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        // Contrast: mean of gray = mean(0.2989·r + 0.587·g + 0.114·b).
        let gray0: Float = 0.2989 * 0.2 + 0.587 * 0.4 + 0.114 * 0.6
        let gray1: Float = 0.2989 * 0.9 + 0.587 * 0.1 + 0.114 * 0.3
        let mean = (gray0 + gray1) / 2
        let contrast = ColorJitter.adjustContrast(image, factor: 0.5)
        for (a, x) in zip(contrast.pixels, image.pixels) { XCTAssertEqual(a, 0.5 * x + 0.5 * mean, accuracy: 1e-6) }
        // Saturation 0 gives the grayscale image in every channel.
        let gray = ColorJitter.adjustSaturation(image, factor: 0)
        XCTAssertEqual(gray.pixels[0], gray0, accuracy: 1e-6)
        XCTAssertEqual(gray.pixels[2], gray0, accuracy: 1e-6)
        XCTAssertEqual(gray.pixels[5], gray1, accuracy: 1e-6)
        // One-channel images: saturation and hue leave them alone.
        let mono = try sampleImage(channels: 1)
        XCTAssertEqual(ColorJitter.adjustSaturation(mono, factor: 0.3), mono)
        XCTAssertEqual(ColorJitter.adjustHue(mono, shift: 0.3), mono)
    }

    func testHSVRoundTripAndHueShift() throws {
        let red = ColorJitter.rgbToHSV(1, 0, 0)
        XCTAssertEqual(red.h, 0)
        XCTAssertEqual(red.s, 1)
        XCTAssertEqual(red.v, 1)
        let green = ColorJitter.rgbToHSV(0, 1, 0)
        XCTAssertEqual(green.h, 1.0 / 3, accuracy: 1e-6)
        var rng = SeededGenerator(seed: 4)
        for _ in 0..<200 {
            let (r, g, b) = (rng.nextUniform(), rng.nextUniform(), rng.nextUniform())
            let hsv = ColorJitter.rgbToHSV(r, g, b)
            let back = ColorJitter.hsvToRGB(hsv.h, hsv.s, hsv.v)
            XCTAssertEqual(back.r, r, accuracy: 1e-5)
            XCTAssertEqual(back.g, g, accuracy: 1e-5)
            XCTAssertEqual(back.b, b, accuracy: 1e-5)
        }
        // A third of a turn maps red to green; a shift of 0 is the identity.
        let image = try Image(channels: 3, height: 1, width: 1, pixels: [1, 0, 0])
        let shifted = ColorJitter.adjustHue(image, shift: 1.0 / 3)
        XCTAssertEqual(shifted.pixels[0], 0, accuracy: 1e-5)
        XCTAssertEqual(shifted.pixels[1], 1, accuracy: 1e-5)
        XCTAssertEqual(shifted.pixels[2], 0, accuracy: 1e-5)
        let colourful = try sampleImage()
        let same = ColorJitter.adjustHue(colourful, shift: 0)
        for (a, b) in zip(same.pixels, colourful.pixels) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }

    func testComposeIsDeterministicWithASeed() throws {
        let pipeline = Compose([
            try RandomResizedCrop(height: 8, width: 8),
            try RandomHorizontalFlip(),
            try RandomVerticalFlip(p: 0.3),
            try ColorJitter(brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1),
        ])
        let image = try sampleImage()
        var a = SeededGenerator(seed: 2024)
        var b = SeededGenerator(seed: 2024)
        let first = (0..<5).map { _ in pipeline(image, using: &a) }
        let second = (0..<5).map { _ in pipeline(image, using: &b) }
        XCTAssertEqual(first, second)
        XCTAssertNotEqual(first[0], first[1])
        for out in first {
            XCTAssertEqual([out.channels, out.height, out.width], [3, 8, 8])
            XCTAssertTrue(out.pixels.allSatisfy { $0 >= 0 && $0 <= 1 })
        }
        // The default-generator overload is reproducible through Random.seed.
        Random.seed(9)
        let x = pipeline(image)
        Random.seed(9)
        XCTAssertEqual(pipeline(image), x)
        XCTAssertEqual(Compose([])(image, using: &a), image)
    }

    func testImageValidation() {
        assertDataToolkitError(.shape, containing: ["5 values", "1×2×2"]) {
            _ = try Image(channels: 1, height: 2, width: 2, pixels: [0, 0, 0, 0, 0])
        }
        assertDataToolkitError(.invalidArgument, containing: ["positive"]) {
            _ = try Image(channels: 0, height: 2, width: 2, pixels: [])
        }
    }
}
