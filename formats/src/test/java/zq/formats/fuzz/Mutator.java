package zq.formats.fuzz;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Seeded mutations of a valid input, of the kinds that broken downloads, hand edits and hostile files produce: flipped
 * bits, bytes set to JSON or UTF-8 landmarks, truncation, deleted, duplicated and swapped ranges, inserted garbage, and
 * numbers replaced by boundary values (-1, 0, 2^31, 2^63, 1e309, NaN). Each call applies one to four of them, so most
 * inputs are nearly valid and get past the first checks of a reader.
 */
final class Mutator {
    private static final byte[] LANDMARKS = "{}[]\",:-0123456789 \n\\eE.".getBytes(StandardCharsets.US_ASCII);
    private static final String[] NUMBERS = {"-1", "0", "1", "2147483647", "2147483648", "-2147483649", "4294967296",
            "9223372036854775807", "18446744073709551616", "1e309", "-1e309", "NaN", "1.5", "-0", "1e-400", "99999999999999999999999"};

    private Mutator() {}

    static byte[] mutate(byte[] seed, SplittableRandom r) {
        byte[] b = seed;
        int n = 1 + r.nextInt(4);
        for (int i = 0; i < n; i++) b = once(b, r);
        return b;
    }

    private static byte[] once(byte[] b, SplittableRandom r) {
        if (b.length == 0) return new byte[] {LANDMARKS[r.nextInt(LANDMARKS.length)]};
        int at = r.nextInt(b.length);
        switch (r.nextInt(10)) {
            case 0 -> { // flip one bit
                byte[] c = b.clone();
                c[at] ^= (byte) (1 << r.nextInt(8));
                return c;
            }
            case 1 -> { // a landmark byte, or a byte of an invalid or multi-byte UTF-8 sequence
                byte[] c = b.clone();
                c[at] = r.nextBoolean() ? LANDMARKS[r.nextInt(LANDMARKS.length)] : (byte) (0x80 + r.nextInt(0x80));
                return c;
            }
            case 2 -> { // truncate
                return Arrays.copyOf(b, at);
            }
            case 3 -> { // delete a range
                int len = 1 + r.nextInt(Math.min(64, b.length - at));
                return splice(b, at, len, new byte[0]);
            }
            case 4 -> { // duplicate a range in place
                int len = 1 + r.nextInt(Math.min(64, b.length - at));
                return splice(b, at, 0, Arrays.copyOfRange(b, at, at + len));
            }
            case 5 -> { // insert random bytes
                byte[] junk = new byte[1 + r.nextInt(8)];
                for (int i = 0; i < junk.length; i++) junk[i] = (byte) r.nextInt(256);
                return splice(b, at, 0, junk);
            }
            case 6, 7 -> { // replace the number nearest to at by a boundary value
                int s = at;
                while (s < b.length && !isDigit(b[s])) s++;
                if (s == b.length) return once(b, r);
                int e = s;
                while (e < b.length && (isDigit(b[e]) || b[e] == '.' || b[e] == 'e' || b[e] == 'E')) e++;
                if (s > 0 && b[s - 1] == '-') s--;
                return splice(b, s, e - s, NUMBERS[r.nextInt(NUMBERS.length)].getBytes(StandardCharsets.US_ASCII));
            }
            case 8 -> { // overwrite 8 bytes with a random little-endian length (safetensors' header size, GGUF counts)
                byte[] c = b.clone();
                long v = switch (r.nextInt(4)) {
                    case 0 -> r.nextLong();
                    case 1 -> r.nextInt(1 << 20);
                    case 2 -> -1L;
                    default -> 1L << r.nextInt(63);
                };
                int start = r.nextInt(4) == 0 ? 0 : at;
                for (int i = 0; i < 8 && start + i < c.length; i++) c[start + i] = (byte) (v >>> (8 * i));
                return c;
            }
            default -> { // swap two ranges
                int len = 1 + r.nextInt(Math.min(32, b.length));
                int x = r.nextInt(b.length - len + 1), y = r.nextInt(b.length - len + 1);
                byte[] c = b.clone();
                System.arraycopy(b, x, c, y, len);
                System.arraycopy(b, y, c, x, Math.min(len, c.length - x));
                return c;
            }
        }
    }

    private static boolean isDigit(byte c) { return c >= '0' && c <= '9'; }

    private static byte[] splice(byte[] b, int at, int remove, byte[] insert) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(b.length + insert.length);
        out.write(b, 0, at);
        out.write(insert, 0, insert.length);
        out.write(b, at + remove, b.length - at - remove);
        return out.toByteArray();
    }
}
