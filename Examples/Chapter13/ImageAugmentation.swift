import D2L

/// 13.1 Image Augmentation: the book's `apply(img, aug)` figures (an image and eight
/// augmented copies) for flips, RandomResizedCrop, ColorJitter and their composition, then
/// training with and without augmentation. The book's photo is a JPEG; until the toolkit
/// decodes images this section draws its own picture (a house under a sun, not symmetric,
/// so that the flips show) and trains on Fashion-MNIST instead of CIFAR-10.
enum ImageAugmentation {
    static let section = BookSection(name: "image-augmentation", number: "13.1", title: "Image Augmentation", run: run)

    /// A 3 × 200 × 300 RGB picture in [0, 1]: sky, a sun at the top left, grass, a red house
    /// with a door on its right half.
    static func picture() throws -> Image {
        let (h, w) = (200, 300)
        var pixels = [Float](repeating: 0, count: 3 * h * w)
        for y in 0..<h {
            for x in 0..<w {
                var rgb: (Float, Float, Float) = y < 140 ? (0.45, 0.65, 1 - Float(y) / 400) : (0.2, 0.6 - Float(y - 140) / 300, 0.15)
                let (dx, dy) = (Float(x - 60), Float(y - 45))
                if dx * dx + dy * dy < 26 * 26 { rgb = (1, 0.85, 0.2) }
                if (150..<260).contains(x) && (80..<150).contains(y) { rgb = (0.75, 0.15, 0.12) }
                if (215..<240).contains(x) && (110..<150).contains(y) { rgb = (0.35, 0.2, 0.08) }
                if y >= 40 && y < 80 && x >= 150 && x < 260 && (y - 40) >= abs(x - 205) * 40 / 55 { rgb = (0.4, 0.1, 0.1) }
                pixels[y * w + x] = rgb.0
                pixels[h * w + y * w + x] = rgb.1
                pixels[2 * h * w + y * w + x] = rgb.2
            }
        }
        return try Image(channels: 3, height: h, width: w, pixels: pixels)
    }

    /// The book's `apply(img, aug, num_rows=2, num_cols=4)`: eight draws of `aug`, written as
    /// a PNG grid with the original first; returns the draws.
    @discardableResult
    static func apply(_ book: BookContext, _ img: Image, _ aug: any ImageTransform, _ name: String,
                      using rng: inout SeededGenerator) throws -> [Image] {
        let ys = (0..<8).map { _ in aug(img, using: &rng) }
        let path = try book.outputPath(name + ".png")
        try PNGWriter.write(try ImageGrid.tile(ys, columns: 4), to: path)
        print("figure: \(path)")
        return ys
    }

    static func meanValue(_ image: Image) -> Float { image.pixels.reduce(0, +) / Float(image.pixels.count) }

    static func run(_ book: BookContext) throws {
        let img = try picture()
        let original = try book.outputPath("picture.png")
        try PNGWriter.write(img, to: original)
        print("figure: \(original)")
        var rng = SeededGenerator(seed: 0)

        // Flipping left and right, and up and down.
        let mirrored = RandomHorizontalFlip.flip(img)
        let flips = try apply(book, img, try RandomHorizontalFlip(), "flip-left-right", using: &rng)
        book.check(flips.allSatisfy { $0 == img || $0 == mirrored } && flips.contains(img) && flips.contains(mirrored),
                   "RandomHorizontalFlip gives the image or its mirror, both among eight draws")
        book.check(RandomHorizontalFlip.flip(mirrored) == img, "flipping twice restores the image")
        try apply(book, img, try RandomVerticalFlip(), "flip-up-down", using: &rng)

        // Cropping: a random area of 10 %–100 % with aspect ratio 1/2–2, resized to 200 × 200.
        let shapeAug = try RandomResizedCrop(height: 200, width: 200, scale: (0.1, 1), ratio: (0.5, 2))
        let crops = try apply(book, img, shapeAug, "random-resized-crop", using: &rng)
        book.check(crops.allSatisfy { $0.height == 200 && $0.width == 200 && $0.channels == 3 }, "every crop is 3 × 200 × 200")

        // Changing colours: brightness, hue, then all four at once.
        let brighter = try apply(book, img, try ColorJitter(brightness: 0.5), "brightness", using: &rng)
        let base = meanValue(img)
        book.check(brighter.allSatisfy { meanValue($0) > 0.5 * base - 1e-3 && meanValue($0) < 1.5 * base + 1e-3 },
                   "brightness 0.5 scales the mean by a factor in [0.5, 1.5] (clipped at 1)")
        try apply(book, img, try ColorJitter(hue: 0.5), "hue", using: &rng)
        let colorAug = try ColorJitter(brightness: 0.5, contrast: 0.5, saturation: 0.5, hue: 0.5)
        try apply(book, img, colorAug, "color-jitter", using: &rng)

        // Combining: flip, colour, shape.
        let augs = Compose([try RandomHorizontalFlip(), colorAug, shapeAug])
        let combined = try apply(book, img, augs, "combined", using: &rng)
        book.check(Set(combined.map { $0.pixels.reduce(0, +) }).count == 8, "eight different augmented images")

        // Training with image augmentation: the same model with and without random flips.
        var train = try FashionMNIST.load(train: true, directory: book.dataDirectory)
        var test = try FashionMNIST.load(train: false, directory: book.dataDirectory)
        if book.quick { train = try train.prefix(6144); test = try test.prefix(512) }
        var results: [String: Double] = [:]
        for (label, augmentation) in [("without augmentation", nil), ("with random horizontal flips", try RandomHorizontalFlip() as (any ImageTransform)?)] {
            Random.seed(0)
            var recipe = try TrainingRecipe.book("lenet-bn")
            recipe.epochs = book.choose(full: 10, quick: 1)
            let net = try recipe.makeModel()
            var configuration = TrainingConfiguration(epochs: recipe.epochs, batchSize: book.choose(full: 256, quick: 64),
                                                      learningRate: recipe.learningRate)
            configuration.showProgress = false
            let trainer = try Trainer(model: net, configuration: configuration)
            trainer.augmentation = augmentation
            let history = try trainer.fit(train: train, test: test)
            guard let last = history.last else { throw ToolkitError(.invalidArgument, "no epochs were run") }
            print(String(format: "%@: loss %.3f, train acc %.3f, test acc %.3f", label, last.trainLoss, last.trainAccuracy, last.testAccuracy))
            results[label] = last.testAccuracy
            book.check(last.trainLoss.isFinite && last.testAccuracy > 0.3, "\(label): the model learns (test accuracy above 0.3)")
        }
    }
}
