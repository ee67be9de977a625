/// Every section `d2l-book` runs, in the book's order: one line each.
let bookSections: [BookSection] = [
    // Chapter 3: Linear Neural Networks for Regression and Classification
    LinearRegressionScratch.section,
]
