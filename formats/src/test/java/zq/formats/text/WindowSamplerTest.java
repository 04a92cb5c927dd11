package zq.formats.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.Test;

class WindowSamplerTest {
    /** Token i is i, so a window's first token is its start and a window is a slice iff it counts up by one. */
    static final int[] CORPUS = java.util.stream.IntStream.range(0, 10_000).toArray();

    @Test
    void windowsAreExactSlicesInsideTheCorpus() {
        int[][] w = WindowSampler.sample(CORPUS, 128, 2048, 0, "corpus");
        assertEquals(128, w.length);
        for (int[] window : w) {
            assertEquals(2048, window.length);
            int start = window[0];
            assertTrue(start >= 0 && start <= CORPUS.length - 2048, "start " + start);
            for (int k = 0; k < window.length; k++) assertEquals(start + k, window[k]);
        }
    }

    @Test
    void sameSeedSameWindowsOtherSeedOtherWindows() {
        int[] a = WindowSampler.starts(CORPUS.length, 16, 100, 42, "corpus");
        assertArrayEquals(a, WindowSampler.starts(CORPUS.length, 16, 100, 42, "corpus"));
        assertFalse(Arrays.equals(a, WindowSampler.starts(CORPUS.length, 16, 100, 43, "corpus")));
    }

    @Test
    void startsFollowJavaUtilRandom() {
        // java.util.Random's sequence is fixed by its specification: nextInt(bound) draws in [0, bound)
        java.util.Random r = new java.util.Random(7);
        int[] expected = new int[5];
        for (int i = 0; i < 5; i++) expected[i] = r.nextInt(10_000 - 300 + 1);
        assertArrayEquals(expected, WindowSampler.starts(10_000, 5, 300, 7, "corpus"));
    }

    @Test
    void everyStartIncludingTheLastIsReachable() {
        // corpus of 12 tokens, windows of 10: starts 0, 1, 2 are all possible
        Set<Integer> seen = new HashSet<>();
        for (int s : WindowSampler.starts(12, 200, 10, 1, "corpus")) seen.add(s);
        assertEquals(Set.of(0, 1, 2), seen);
        assertArrayEquals(new int[] {0, 0, 0}, WindowSampler.starts(10, 3, 10, 1, "corpus"));
    }

    @Test
    void corpusShorterThanOneWindowIsAClearError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WindowSampler.sample(new int[100], 4, 2048, 0, "calib.txt"));
        assertTrue(e.getMessage().contains("calib.txt") && e.getMessage().contains("100") && e.getMessage().contains("2048"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> WindowSampler.sample(CORPUS, 0, 10, 0, "c"));
        assertThrows(IllegalArgumentException.class, () -> WindowSampler.sample(CORPUS, 1, 0, 0, "c"));
    }

    @Test
    void textCorpusDelegates() {
        TextCorpus c = new TextCorpus("c", CORPUS);
        assertArrayEquals(WindowSampler.sample(CORPUS, 3, 50, 9, "c")[2], c.sampleWindows(3, 50, 9)[2]);
    }
}
