/// Vectorized elementwise math for the activation kernels, tested against the scalar
/// libm versions in the reference kernels (ElementwiseUnary's `sigmoid`).

/// e^x for 8 lanes (Cephes' expf: range reduction by ln 2 in two parts, a degree-5
/// polynomial, scaling by 2^n through the exponent bits). Inputs are clamped to
/// [-87.3, 88.7], so results stay finite and normal; relative error ≈ 2 ulp. NaN lanes
/// give NaN.
@inline(__always)
func exp8(_ input: SIMD8<Float>) -> SIMD8<Float> {
    let nan = input .!= input
    var x0 = input
    let lo = SIMD8<Float>(repeating: -87.3), hi = SIMD8<Float>(repeating: 88.7)
    x0.replace(with: lo, where: x0 .< lo)
    x0.replace(with: hi, where: x0 .> hi)
    x0.replace(with: 0, where: nan)
    // n = round(x / ln 2) by the 1.5 · 2^23 trick (exact for |n| < 2^22); both the float
    // and the integer are read from one addition, so no generic conversions run.
    let shifted = x0 * 1.44269504088896341 + 12_582_912
    let fx = shifted - 12_582_912
    let n = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000
    var x = x0 - fx * 0.693359375
    x = x + fx * 2.12194440e-4
    let z = x * x
    var y = SIMD8<Float>(repeating: 1.9875691500e-4)
    y = y * x + 1.3981999507e-3
    y = y * x + 8.3334519073e-3
    y = y * x + 4.1665795894e-2
    y = y * x + 1.6666665459e-1
    y = y * x + 5.0000001201e-1
    y = y * z + x + 1
    let scale = unsafeBitCast((n &+ 127) &<< 23, to: SIMD8<Float>.self)
    var result = y * scale
    result.replace(with: input, where: nan)
    return result
}

/// y[i] = 1 / (1 + e^-x[i]) for i < n, 8 lanes at a time (the tail through the scalar
/// `sigmoid`).
public func sigmoidVector(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    var i = 0
    let one = SIMD8<Float>(repeating: 1)
    while i + 8 <= n {
        let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
        let r = one / (one + exp8(-v))
        UnsafeMutableRawPointer(y + i).storeBytes(of: r, as: SIMD8<Float>.self)
        i += 8
    }
    while i < n { y[i] = sigmoid(x[i]); i += 1 }
}

/// y[i] = max(x[i], 0) for i < n (NaN stays NaN), 8 lanes at a time.
public func reluVector(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    var i = 0
    let zero = SIMD8<Float>(repeating: 0)
    while i + 8 <= n {
        var v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
        v.replace(with: zero, where: v .< zero)
        UnsafeMutableRawPointer(y + i).storeBytes(of: v, as: SIMD8<Float>.self)
        i += 8
    }
    while i < n { let v = x[i]; y[i] = v < 0 ? 0 : v; i += 1 }
}
