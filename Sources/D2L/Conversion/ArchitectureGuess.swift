/// Which of d2l-export's architectures a checkpoint's keys belong to: for the message of a
/// checkpoint converted or fine-tuned with the wrong `--arch` ("its keys look like those of
/// --arch lenet").
///
/// Key names do not depend on widths, image size or classes, so each architecture's keys
/// come from a small instance of it (width divisor 16, hidden 8, 2 classes), built once.
enum ArchitectureGuess {
    /// Each architecture's state-dictionary keys in its `stateDict()` order
    /// (`CheckpointConverter.architectures` order; the language models with one layer, one
    /// direction).
    static let keyLists: [(arch: String, keys: [String])] = {
        let saved = Random.generator
        defer { Random.generator = saved }
        let classifiers: [(String, [String])] = Models.architectures.compactMap { arch in
            let size = ["alexnet", "nin"].contains(arch) ? 80 : (try? Models.defaultImageSize(arch: arch)) == 28 ? 28 : 32
            let options = ModelOptions(classes: 2, imageSize: arch == "mlp-block" ? nil : size, hidden: 8, widthDivisor: 16)
            return (try? Models.make(arch: arch, options: options)).map { (arch, $0.namedStateEntries().map(\.name)) }
        }
        let languageModels: [(String, [String])] = LanguageModels.names.compactMap { arch in
            (try? LanguageModels.make(arch, vocabSize: 2, hidden: 1)).map { (arch, $0.namedStateEntries().map(\.name)) }
        }
        return classifiers + languageModels
    }()

    /// The keys of `arch` (nil for an unknown name).
    static func keys(of arch: String) -> [String]? { keyLists.first { $0.arch == arch }?.keys }

    /// The fraction of keys two sets share (|a ∩ b| / |a ∪ b|) at which they are "alike".
    static let threshold = 0.5

    /// The architectures whose keys are most like `keys` (at least ``threshold`` of their
    /// union shared), best first; several only when they tie. A tie of the language models
    /// is settled by `rnn.weight_hh_l0`'s rows per hidden unit (1 RNN, 3 GRU, 4 LSTM).
    static func best(for keys: [(name: String, shape: [Int])]) -> [String] {
        let given = Set(keys.map(\.name))
        guard !given.isEmpty else { return [] }
        let scored = keyLists.map { entry in
            let keys = Set(entry.keys)
            return (arch: entry.arch, score: Double(keys.intersection(given).count) / Double(keys.union(given).count))
        }
        guard let top = scored.map(\.score).max(), top >= threshold else { return [] }
        let tied = scored.filter { $0.score == top }.map(\.arch)
        if tied.count > 1, tied.allSatisfy(LanguageModels.names.contains),
           let hh = keys.last(where: { $0.name == "rnn.weight_hh_l0" })?.shape, hh.count == 2, hh[1] > 0, hh[0] % hh[1] == 0,
           let arch = [1: "rnn-lm", 3: "gru-lm", 4: "lstm-lm"][hh[0] / hh[1]] {
            return [arch]
        }
        return tied
    }

    /// `its keys look like those of --arch lenet` (`… of --arch rnn-lm, gru-lm or lstm-lm`
    /// for a tie) when `keys` look like an architecture other than `arch`, else nil.
    static func hint(for keys: [(name: String, shape: [Int])], notArch arch: String? = nil) -> String? {
        let best = best(for: keys)
        guard !best.isEmpty, !best.contains(where: { $0 == arch }) else { return nil }
        let names = best.count == 1 ? best[0] : best.dropLast().joined(separator: ", ") + " or " + best[best.count - 1]
        return "its keys look like those of --arch \(names)"
    }
}
