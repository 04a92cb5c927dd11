package zq.cli;

import zq.formats.gguf.GgmlType;

import java.util.Locale;

/** The GGUF tensor types a user names on the command line. */
final class GgufTypes {
    private GgufTypes() {}

    static GgmlType parse(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "f32", "fp32", "float32" -> GgmlType.F32;
            case "f16", "fp16", "float16" -> GgmlType.F16;
            case "bf16", "bfloat16" -> GgmlType.BF16;
            case "q8_0" -> GgmlType.Q8_0;
            case "q4_0" -> GgmlType.Q4_0;
            case "q4_1" -> GgmlType.Q4_1;
            default -> throw new IllegalArgumentException("--dtype '" + s + "' is not a GGUF type (f32, f16, bf16, q8_0, q4_0, q4_1)");
        };
    }
}
