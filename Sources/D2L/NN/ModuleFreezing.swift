extension Module {
    /// Freezes every trainable parameter of this module and its descendants
    /// (`for p in net.parameters(): p.requires_grad_(False)`): they get no gradient and
    /// no optimizer moves them, but they stay in `parameters()` and the state dictionary.
    /// BatchNorm's running statistics (buffers) still update in training mode, as in
    /// PyTorch; call `eval()` on the module to keep them too. See ``Parameter/isFrozen``.
    public final func freeze() { for p in parameters() { p.isFrozen = true } }

    /// Makes every parameter of this module and its descendants trainable again.
    public final func unfreeze() { for p in parameters() { p.isFrozen = false } }

    /// The parameters that are not frozen (what an optimizer over a partly frozen model needs).
    public final func trainableParameters() -> [Parameter] { parameters().filter { !$0.isFrozen } }
}
