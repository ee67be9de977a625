/// Whether the first bytes of a file can begin an ONNX `ModelProto`, checked before the
/// rest of the file is read: a 2 GiB file of zeros (tag 0, which no protobuf message has)
/// or of random bytes is refused in microseconds instead of after reading it whole.
///
/// The first field must be one `ModelProto` declares, with its wire type (ir_version 1
/// and model_version 5 varints; fields 2–4, 6–8, 14, 20, 25, 26 length-delimited). Every
/// field whose header lies in `head` is then checked as protobuf (field number ≥ 1, wire
/// type 0, 1, 2 or 5, the wire type a known field declares, varints of at most 10 bytes),
/// and a length-delimited field must fit in the file.
public enum ModelProtoHead {
    /// How many bytes the check looks at (a loader reads this much first).
    public static let length = 64

    /// The wire type of each `ModelProto` field (onnx.proto, pinned onnx 1.22.0).
    private static func wireType(ofField number: UInt64) -> UInt64? {
        switch number {
        case 1, 5: return 0
        case 2, 3, 4, 6, 7, 8, 14, 20, 25, 26: return 2
        default: return nil
        }
    }

    /// Why `head` (the first bytes of a file of `fileSize` bytes) cannot begin a
    /// `ModelProto`, as the end of a sentence; nil when it can.
    public static func problem(_ head: UnsafeRawBufferPointer, fileSize: Int) -> String? {
        var position = 0
        var fields = 0
        while position < head.count {
            let start = position
            guard let key = varint(head, &position) else {
                return position >= head.count && fileSize > head.count
                    ? nil  // the key continues past the head: the next read decides
                    : "the field key at byte \(start) \(fileSize <= head.count ? "is cut off by the end of the file" : "is longer than 10 bytes")\(bytesText(head))"
            }
            let number = key >> 3
            let wire = key & 7
            if number == 0 {
                return "byte \(start) is field number 0, which no protobuf message has\(bytesText(head))"
            }
            let expected = wireType(ofField: number)
            if fields == 0 && expected == nil {
                return "its first field, number \(number), is not a field of onnx.ModelProto\(bytesText(head))"
            }
            if let expected, expected != wire {
                return "field \(number) at byte \(start) has wire type \(wire); onnx.ModelProto's field \(number) has wire type \(expected)\(bytesText(head))"
            }
            switch wire {
            case 0:
                let valueStart = position
                guard varint(head, &position) != nil else {
                    if position >= head.count && fileSize > head.count { return nil }
                    return "the varint of field \(number) at byte \(valueStart) \(fileSize <= head.count ? "is cut off by the end of the file" : "is longer than 10 bytes")"
                }
            case 1, 5:
                position += wire == 1 ? 8 : 4
                if position > fileSize {
                    return "field \(number) at byte \(start) runs past the end of the file (\(fileSize) bytes)"
                }
            case 2:
                let lengthStart = position
                guard let length = varint(head, &position) else {
                    if position >= head.count && fileSize > head.count { return nil }
                    return "the length of field \(number) at byte \(lengthStart) \(fileSize <= head.count ? "is cut off by the end of the file" : "is longer than 10 bytes")"
                }
                guard position <= fileSize, length <= UInt64(fileSize - position) else {
                    return "field \(number) at byte \(start) declares \(length) bytes, but the file has \(fileSize - min(position, fileSize)) after it (truncated?)"
                }
                position += Int(length)
            default:
                return "field \(number) at byte \(start) has wire type \(wire), which onnx.ModelProto does not use\(bytesText(head))"
            }
            fields += 1
        }
        return nil
    }

    /// The varint at `position` (advanced past it), or nil when `bytes` end inside it
    /// (`position` is then `bytes.count`) or it is longer than 10 bytes.
    private static func varint(_ bytes: UnsafeRawBufferPointer, _ position: inout Int) -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            if shift < 64 { value |= UInt64(byte & 0x7F) << shift }
            if byte & 0x80 == 0 { return value }
            shift += 7
            if shift >= 70 { return nil }
        }
        return nil
    }

    /// ` (it starts with bytes 00 00 …)`: the first 8 bytes in hex.
    private static func bytesText(_ head: UnsafeRawBufferPointer) -> String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = Array(" (it starts with bytes".utf8)
        for byte in head.prefix(8) {
            out.append(UInt8(ascii: " "))
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        out.append(UInt8(ascii: ")"))
        return String(decoding: out, as: UTF8.self)
    }
}
