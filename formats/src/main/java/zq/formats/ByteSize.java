package zq.formats;

import java.math.BigDecimal;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses a byte count such as {@code 5GB}, {@code 500MB}, {@code 3g}, {@code 2GiB} or {@code 1000000}: the one
 * parser of sizes given on a command line (shard sizes, benchmark sizes). Decimal units as huggingface_hub uses them
 * (GB = 10^9 bytes, the "B" optional), binary ones with "i".
 */
public final class ByteSize {
    private ByteSize() {}

    private static final Pattern SIZE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(?:([kmgt])(i?b)?|b)?");

    /**
     * The size {@code text} gives, in bytes; {@code option} names where it came from in the error message
     * (e.g. {@code --max-shard-size}).
     */
    public static long parse(String option, String text) {
        Matcher m = SIZE.matcher(text.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException(option + " '" + text + "' is not a size (examples: 5GB, 500MB, 2GiB, 1000000)");
        }
        long multiplier = 1;
        if (m.group(2) != null) {
            int power = "kmgt".indexOf(m.group(2).charAt(0)) + 1;
            boolean binary = m.group(3) != null && m.group(3).startsWith("i");
            for (int i = 0; i < power; i++) multiplier *= binary ? 1024 : 1000;
        }
        BigDecimal bytes = new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(multiplier));
        if (bytes.signum() <= 0 || bytes.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
            throw new IllegalArgumentException(option + " '" + text + "' must be positive and below 8 EiB");
        }
        return bytes.longValue();
    }
}
