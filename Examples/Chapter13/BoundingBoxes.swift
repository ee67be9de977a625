import D2L

/// 13.3 Object Detection and Bounding Boxes: the dog and cat boxes of the book's photo in
/// corner and center form, converted there and back.
enum BoundingBoxesSection {
    static let section = BookSection(name: "bounding-box", number: "13.3", title: "Object Detection and Bounding Boxes", run: run)

    static func run(_ book: BookContext) throws {
        let dogBox: [Float] = [60.0, 45.0, 378.0, 516.0], catBox: [Float] = [400.0, 112.0, 655.0, 493.0]
        let boxes = Tensor(dogBox + catBox, shape: [2, 4])
        let center = try boxCornerToCenter(boxes)
        book.show("box_corner_to_center(boxes)", center)
        let back = try boxCenterToCorner(center)
        print("box_center_to_corner(box_corner_to_center(boxes)) == boxes: \(back.scalars == boxes.scalars ? "True" : "False")")
        book.check(back.scalars == boxes.scalars, "corner → center → corner gives the boxes back")
    }
}
