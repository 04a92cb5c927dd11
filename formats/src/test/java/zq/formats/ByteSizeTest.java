package zq.formats;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Expected values worked by hand from the unit definitions (GB = 10^9, GiB = 2^30). */
class ByteSizeTest {
    private static long parse(String s) { return ByteSize.parse("--max-shard-size", s); }

    @Test void decimalAndBinaryUnits() {
        assertEquals(5_000_000_000L, parse("5GB"));
        assertEquals(500_000_000L, parse("500 mb"));
        assertEquals(1_500_000_000L, parse("1.5GB"));
        assertEquals(2L * 1024 * 1024 * 1024, parse("2GiB"));
        assertEquals(1_000_000L, parse("1000000"));
        assertEquals(4096L, parse("4KiB"));
        assertEquals(1_000_000_000_000L, parse("1TB"));
        assertEquals(1L << 40, parse("1TiB"));
    }

    @Test void unitLetterAloneIsDecimal() {
        assertEquals(3_000_000_000L, parse("3g"));
        assertEquals(300_000_000L, parse("300M"));
        assertEquals(500_000L, parse("500k"));
        assertEquals(4_096L, parse("4096"));
        assertEquals(4_096L, parse("4096b"));
    }

    @Test void rejectsWhatIsNotASize() {
        String m = assertThrows(IllegalArgumentException.class, () -> parse("5 gallons")).getMessage();
        assertTrue(m.startsWith("--max-shard-size '5 gallons' is not a size"), m);
        m = assertThrows(IllegalArgumentException.class, () -> ByteSize.parse("SIZE", "lots")).getMessage();
        assertEquals("SIZE 'lots' is not a size (examples: 5GB, 500MB, 2GiB, 1000000)", m);
        m = assertThrows(IllegalArgumentException.class, () -> parse("0GB")).getMessage();
        assertTrue(m.contains("must be positive"), m);
        m = assertThrows(IllegalArgumentException.class, () -> parse("99999999999g")).getMessage();
        assertTrue(m.contains("below 8 EiB"), m);
    }
}
