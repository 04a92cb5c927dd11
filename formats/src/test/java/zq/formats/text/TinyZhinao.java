package zq.formats.text;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import zq.formats.tokenizer.BpeTraining;
import zq.formats.tokenizer.ZhinaoTokenizer;

/**
 * A 360Zhinao tokenizer over a tiny vocabulary for hand-worked ids: ranks 0..255 are the bytes
 * (rank = byte value), 256 "ab", 257 "user", 258 "system", 259 "assistant", 260 "You"; so the
 * 261 ranks, so the specials are &lt;pad&gt; 261 .. [space2] 266, [space4] 268, &lt;|im_start|&gt; 270, &lt;|im_end|&gt; 271.
 */
final class TinyZhinao {
    static final int AB = 256, USER = 257, SYSTEM = 258, ASSISTANT = 259, YOU = 260;
    static final int SPACE2 = 266, SPACE4 = 268, IM_START = 270, IM_END = 271;

    private TinyZhinao() {}

    static ZhinaoTokenizer create(Path dir) throws IOException {
        List<byte[]> tokens = new ArrayList<>();
        for (int i = 0; i < 256; i++) tokens.add(new byte[] {(byte) i});
        for (String s : new String[] {"ab", "user", "system", "assistant", "You"}) tokens.add(s.getBytes(StandardCharsets.UTF_8));
        return ZhinaoTokenizer.load(new BpeTraining.Vocabulary(tokens, List.of()).writeTiktoken(dir.resolve("vocab/360.tiktoken")));
    }

    /** Ids of text on which no merge applies: its UTF-8 bytes. */
    static int[] bytes(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[b.length];
        for (int i = 0; i < b.length; i++) ids[i] = b[i] & 0xFF;
        return ids;
    }

    static int[] concat(int[]... parts) {
        int n = 0;
        for (int[] p : parts) n += p.length;
        int[] out = new int[n];
        int at = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    static int[] ids(int... ids) { return ids; }
}
