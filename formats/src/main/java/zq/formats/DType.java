package zq.formats;

import java.util.Locale;

/** Element types a safetensors file may hold that zq reads or writes, with their on-disk names and widths. */
public enum DType {
    BOOL(1), U8(1), I8(1), I16(2), U16(2), F16(2), BF16(2), I32(4), U32(4), F32(4), I64(8), U64(8), F64(8);

    private final int bytes;

    DType(int bytes) { this.bytes = bytes; }

    /** Width of one element in bytes. */
    public int bytes() { return bytes; }

    public boolean isFloatingPoint() { return this == F16 || this == BF16 || this == F32 || this == F64; }

    /** The name used in safetensors headers ("BF16", "F32", ...). */
    public String safetensorsName() { return name(); }

    /** Parses a safetensors dtype name; returns null when zq does not know it. */
    public static DType fromSafetensorsName(String s) {
        if (s == null) return null;
        for (DType t : values()) if (t.name().equals(s)) return t;
        return null;
    }

    /** Parses a user-facing name such as bf16, float16, fp32. */
    public static DType fromUserName(String s) {
        switch (s.toLowerCase(Locale.ROOT)) {
            case "bf16": case "bfloat16": return BF16;
            case "f16": case "fp16": case "float16": case "half": return F16;
            case "f32": case "fp32": case "float32": case "float": return F32;
            case "f64": case "fp64": case "float64": case "double": return F64;
            default: throw new IllegalArgumentException("unknown dtype '" + s + "' (expected bf16, f16 or f32)");
        }
    }

    /** The name transformers uses in config.json's torch_dtype. */
    public String torchName() {
        switch (this) {
            case BF16: return "bfloat16";
            case F16: return "float16";
            case F32: return "float32";
            case F64: return "float64";
            default: return name().toLowerCase(Locale.ROOT);
        }
    }
}
