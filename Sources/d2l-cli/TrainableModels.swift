import D2L

/// What `d2l-cli train` trains, by name: the one list that its help, its dispatch and its
/// unknown-model error use.
enum TrainableModel: Equatable {
    /// An image classifier of ``TrainingRecipe`` (Fashion-MNIST or an image folder).
    case classifier(String)
    /// A character language model of ``LanguageModels`` (The Time Machine).
    case languageModel(String)
    /// TinySSD on the banana detection set.
    case detector

    /// The kinds of model with their names and what they train on, in the help's order.
    static let groups: [(names: [String], data: String)] = [
        (TrainingRecipe.classifiers, "Fashion-MNIST or an image folder"),
        (LanguageModels.names, "The Time Machine"),
        (["tiny-ssd"], "the banana detection set"),
    ]

    /// Every name `train` takes.
    static let names = groups.flatMap(\.names)

    /// `softmax, mlp, … (Fashion-MNIST or an image folder); rnn-lm, … (The Time Machine); tiny-ssd (…)`.
    static let listing = groups.map { $0.names.joined(separator: ", ") + " (\($0.data))" }.joined(separator: "; ")

    /// The model called `name`.
    /// - Throws: `ToolkitError(.invalidArgument)` naming every model `train` knows.
    init(_ name: String) throws {
        if TrainingRecipe.classifiers.contains(name) {
            self = .classifier(name)
        } else if LanguageModels.names.contains(name) {
            self = .languageModel(name)
        } else if name == "tiny-ssd" {
            self = .detector
        } else {
            throw ToolkitError(.invalidArgument, "unknown model '\(name)'; choose one of: \(Self.listing)")
        }
    }
}
