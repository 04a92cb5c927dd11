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
        int[][] w = WindowSampler.sample(CORPUS, 4, 2048, 0, "corpus");
        assertEquals(4, w.length);
        for (int[] window : w) {
            assertEquals(2048, window.length);
            int start = window[0];
            assertTrue(start >= 0 && start <= CORPUS.length - 2048, "start " + start);
            for (int k = 0; k < window.length; k++) assertEquals(start + k, window[k]);
        }
    }

    /** Checked by marking tokens, not by the sampler's own arithmetic: no token may be marked twice. */
    @Test
    void windowsNeverOverlapForAnySeed() {
        for (long seed = 0; seed < 300; seed++) {
            for (int[] shape : new int[][]{{16, 600}, {3, 3333}, {100, 97}, {1, 10_000}, {50, 1}}) {
                boolean[] used = new boolean[CORPUS.length];
                for (int[] window : WindowSampler.sample(CORPUS, shape[0], shape[1], seed, "corpus")) {
                    for (int t : window) {
                        assertFalse(used[t], "seed " + seed + ", " + shape[0] + "x" + shape[1] + ": token " + t + " in two windows");
                        used[t] = true;
                    }
                }
            }
        }
    }

    @Test
    void aCorpusOfExactlyNTimesLTokensIsUsedOnceAsAPermutationOfItsConsecutiveWindows() {
        int n = 16, l = 625; // 16 · 625 = 10 000
        Set<String> orders = new HashSet<>();
        for (long seed = 0; seed < 20; seed++) {
            int[] starts = WindowSampler.starts(CORPUS.length, n, l, seed, "corpus");
            int[] sorted = starts.clone();
            Arrays.sort(sorted);
            for (int k = 0; k < n; k++) assertEquals(k * l, sorted[k], "seed " + seed);
            orders.add(Arrays.toString(starts));
        }
        assertTrue(orders.size() > 15, "the window order must depend on the seed: " + orders.size() + " orders in 20 seeds");
    }

    @Test
    void sameSeedSameWindowsOtherSeedOtherWindows() {
        int[] a = WindowSampler.starts(CORPUS.length, 16, 100, 42, "corpus");
        assertArrayEquals(a, WindowSampler.starts(CORPUS.length, 16, 100, 42, "corpus"));
        assertFalse(Arrays.equals(a, WindowSampler.starts(CORPUS.length, 16, 100, 43, "corpus")));
    }

    @Test
    void theGapsReachBothEndsOfTheCorpus() {
        // 12 tokens, one window of 10: starts 0, 1 and 2 are all possible
        Set<Integer> seen = new HashSet<>();
        for (long seed = 0; seed < 200; seed++) seen.add(WindowSampler.starts(12, 1, 10, seed, "corpus")[0]);
        assertEquals(Set.of(0, 1, 2), seen);
        assertArrayEquals(new int[] {0}, WindowSampler.starts(10, 1, 10, 1, "corpus"));
    }

    @Test
    void tooFewTokensIsAClearErrorSayingHowManyWindowsFit() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WindowSampler.sample(new int[1000], 16, 128, 0, "calib.txt"));
        assertEquals("calib.txt has 1000 tokens: 7 disjoint windows of seqlen 128 fit, 16 were asked for; use --nsamples 7, "
                + "a smaller --seqlen, or more calibration text", e.getMessage());
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
                () -> WindowSampler.sample(new int[100], 4, 2048, 0, "calib.txt"));
        assertTrue(none.getMessage().contains("0 disjoint windows"), none.getMessage());
        assertThrows(IllegalArgumentException.class, () -> WindowSampler.sample(new int[1000], 8, 128, 0, "c"));
        assertEquals(7, WindowSampler.sample(new int[1000], 7, 128, 0, "c").length);
        assertThrows(IllegalArgumentException.class, () -> WindowSampler.sample(CORPUS, 0, 10, 0, "c"));
        assertThrows(IllegalArgumentException.class, () -> WindowSampler.sample(CORPUS, 1, 0, 0, "c"));
    }

    @Test
    void textCorpusDelegates() {
        TextCorpus c = new TextCorpus("c", CORPUS);
        assertArrayEquals(WindowSampler.sample(CORPUS, 3, 50, 9, "c")[2], c.sampleWindows(3, 50, 9)[2]);
    }
}
