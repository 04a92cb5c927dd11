package zq.formats.gguf;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** GGUF key-value metadata in insertion order, with typed setters for the keys llama.cpp reads. */
public final class GgufMetadata {
    private final Map<String, GgufValue> values = new LinkedHashMap<>();

    public GgufMetadata put(String key, GgufValue v) {
        if (values.putIfAbsent(key, v) != null) throw new IllegalArgumentException("metadata key '" + key + "' set twice");
        return this;
    }

    public GgufMetadata putString(String key, String v) { return put(key, GgufValue.of(GgufValueType.STRING, v)); }

    public GgufMetadata putU32(String key, long v) {
        if (v < 0 || v > 0xFFFFFFFFL) throw new IllegalArgumentException("metadata key '" + key + "': " + v + " does not fit uint32");
        return put(key, GgufValue.of(GgufValueType.UINT32, v));
    }

    public GgufMetadata putF32(String key, double v) { return put(key, GgufValue.of(GgufValueType.FLOAT32, (double) (float) v)); }

    public GgufMetadata putBool(String key, boolean v) { return put(key, GgufValue.of(GgufValueType.BOOL, v)); }

    public GgufMetadata putStrings(String key, List<String> v) { return put(key, GgufValue.array(GgufValueType.STRING, v)); }

    public GgufMetadata putInt32s(String key, List<Long> v) { return put(key, GgufValue.array(GgufValueType.INT32, v)); }

    public Map<String, GgufValue> asMap() { return Collections.unmodifiableMap(values); }

    public GgufValue get(String key) { return values.get(key); }
}
