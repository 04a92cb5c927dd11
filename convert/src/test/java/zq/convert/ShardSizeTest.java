package zq.convert;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ShardSizeTest {
    @Test void decimalAndBinaryUnits() {
        assertEquals(5_000_000_000L, ShardSize.parse("5GB"));
        assertEquals(500_000_000L, ShardSize.parse("500 mb"));
        assertEquals(1_500_000_000L, ShardSize.parse("1.5GB"));
        assertEquals(2L * 1024 * 1024 * 1024, ShardSize.parse("2GiB"));
        assertEquals(1_000_000L, ShardSize.parse("1000000"));
        assertEquals(4096L, ShardSize.parse("4KiB"));
    }

    @Test void rejectsWhatIsNotASize() {
        String m = assertThrows(IllegalArgumentException.class, () -> ShardSize.parse("5 gallons")).getMessage();
        assertTrue(m.startsWith("--max-shard-size '5 gallons' is not a size"), m);
        m = assertThrows(IllegalArgumentException.class, () -> ShardSize.parse("0GB")).getMessage();
        assertTrue(m.contains("must be positive"), m);
    }
}
