import Foundation
import XCTest
@testable import D2LRuntime

final class GenerationTests: XCTestCase {
    func testJSONStringArray() {
        XCTAssertEqual(JSONStringArray.parse(#" [ "<unk>" , "a", "\"\\\/\b\f\n\r\t" ] "#), ["<unk>", "a", "\"\\/\u{8}\u{c}\n\r\t"])
        XCTAssertEqual(JSONStringArray.parse(#"["\u00e9\u20AC", "\ud83d\ude00", "é"]"#), ["é€", "😀", "é"])
        XCTAssertEqual(JSONStringArray.parse("[]"), [])
        for bad in ["", "[", "[\"a\",]", "[\"a\" \"b\"]", "[1]", "{\"a\":1}", "[\"a\"] x", "[\"\\ud83d\"]",
                    "[\"\\x\"]", "[\"a\nb\"]", "[\"\\u12\"]", "[[\"a\"]]", "[\"a\"", "[\"\\udc00\"]"] {
            XCTAssertNil(JSONStringArray.parse(bad), bad)
        }
    }

    func testSplitMix64() {
        var r = SplitMix64(seed: 0)
        XCTAssertEqual(r.next(), 0xE220_A839_7B1D_CDAF)
        XCTAssertEqual(r.next(), 0x6E78_9E6A_A1B9_65F4)
        XCTAssertEqual(r.next(), 0x06C4_5D18_8009_454F)
        var u = SplitMix64(seed: 0)
        XCTAssertEqual(u.nextUnit(), Double(UInt64(0xE220_A839_7B1D_CDAF) >> 11) / 9_007_199_254_740_992.0)
    }

    func testSampler() throws {
        let logits: [Float] = [1, 3, 3, 0]
        logits.withUnsafeBufferPointer { l in
            XCTAssertEqual(Sampler.argmax(l), 1)
            var greedy = try! Sampler(temperature: 0, topK: 0, seed: 0, classCount: 4)
            XCTAssertEqual(greedy.pick(l), 1)
            // top_k 1: the tie at 3 keeps index 1.
            var one = try! Sampler(temperature: 1, topK: 1, seed: 5, classCount: 4)
            for _ in 0..<10 { XCTAssertEqual(one.pick(l), 1) }
            // Reference: softmax in float64 and the first cumulative probability above u.
            for seed: UInt64 in [0, 1, 2, 42] {
                var s = try! Sampler(temperature: 0.5, topK: 0, seed: seed, classCount: 4)
                var r = SplitMix64(seed: seed)
                for _ in 0..<20 {
                    let u = r.nextUnit()
                    let e = logits.map { Foundation.exp(Double($0) / 0.5 - 6) }
                    let total = e.reduce(0, +)
                    var c = 0.0
                    var want = 3
                    for i in 0..<4 { c += e[i] / total; if c > u { want = i; break } }
                    XCTAssertEqual(s.pick(l), want)
                }
            }
            // top_k 3 never picks the smallest.
            var three = try! Sampler(temperature: 10, topK: 3, seed: 9, classCount: 4)
            for _ in 0..<200 { XCTAssertNotEqual(three.pick(l), 3) }
        }
        XCTAssertThrowsError(try Sampler(temperature: -1, topK: 0, seed: 0, classCount: 4))
        XCTAssertThrowsError(try Sampler(temperature: .nan, topK: 0, seed: 0, classCount: 4))
        XCTAssertThrowsError(try Sampler(temperature: 1, topK: 5, seed: 0, classCount: 4))
    }

    func testVocabulary() throws {
        let chars = try Vocabulary(tokens: ["<unk>", " ", "a", "é"], words: false)
        XCTAssertEqual(chars.encode("a éx"), [2, 1, 3, 0])
        XCTAssertEqual(chars.decode([2, 1, 3, 0]), "a é<unk>")
        let words = try Vocabulary(tokens: ["<unk>", "the", "time"], words: true)
        XCTAssertEqual(words.encode("  the  time machine "), [1, 2, 0])
        XCTAssertEqual(words.decode([1, 2, 0]), "the time <unk>")
    }
}
