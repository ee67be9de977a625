/// `1 epoch`, `5 epochs`, `0 classes`: a count with its noun, singular only for 1.
///
/// The one place the toolkit's messages and the CLIs pluralise a counted noun.
/// - Parameters:
///   - count: the number shown.
///   - noun: the singular (`"epoch"`, `"key"`).
///   - plural: the plural when it is not `noun + "s"` (`"classes"`, `"batches"`).
public func counted(_ count: Int, _ noun: String, _ plural: String? = nil) -> String {
    "\(count) " + (count == 1 ? noun : plural ?? noun + "s")
}
