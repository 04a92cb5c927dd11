package zq.formats.gguf;

import java.util.List;

/**
 * One metadata value: a scalar ({@code Long} for integer types, {@code Double} for floats, {@code Boolean},
 * {@code String}) or, for {@link GgufValueType#ARRAY}, a list of such scalars of {@code elementType}.
 */
public record GgufValue(GgufValueType type, GgufValueType elementType, Object value) {

    public static GgufValue of(GgufValueType type, Object value) { return new GgufValue(type, null, value); }

    public static GgufValue array(GgufValueType elementType, List<?> values) {
        return new GgufValue(GgufValueType.ARRAY, elementType, List.copyOf(values));
    }

    public List<?> list() {
        if (type != GgufValueType.ARRAY) throw new IllegalStateException("not an array: " + type);
        return (List<?>) value;
    }

    public long asLong() { return ((Number) value).longValue(); }

    public double asDouble() { return ((Number) value).doubleValue(); }

    public String asString() { return (String) value; }

    /** Short text for listings: scalars as they are, arrays as their type and length with the first values. */
    public String describe() {
        if (type != GgufValueType.ARRAY) return type == GgufValueType.STRING ? quote((String) value) : String.valueOf(value);
        List<?> l = list();
        StringBuilder b = new StringBuilder(elementType.name().toLowerCase()).append('[').append(l.size()).append("] ");
        for (int i = 0; i < Math.min(5, l.size()); i++) {
            if (i > 0) b.append(", ");
            b.append(l.get(i) instanceof String s ? quote(s) : String.valueOf(l.get(i)));
        }
        if (l.size() > 5) b.append(", ...");
        return b.toString();
    }

    private static String quote(String s) {
        String t = s.length() > 60 ? s.substring(0, 57) + "..." : s;
        return '"' + t.replace("\n", "\\n") + '"';
    }
}
