package zq.formats.tokenizer;

/**
 * Byte-level BPE of one piece: its bytes as single-byte tokens, merged by {@link BpeMerger};
 * optionally the whole piece first, if it is a token (tiktoken always, Hugging Face with {@code ignore_merges}).
 */
final class ByteBpe {
    private final ByteTokenTable tokens;
    private final PairTable merges;
    private final boolean wholePieceFirst;
    private final int[] byteIds = new int[256];

    /** {@code tokens} must have every single byte. */
    ByteBpe(ByteTokenTable tokens, PairTable merges, boolean wholePieceFirst) {
        this.tokens = tokens;
        this.merges = merges;
        this.wholePieceFirst = wholePieceFirst;
        for (int b = 0; b < 256; b++) {
            byteIds[b] = tokens.idOf(new byte[] {(byte) b}, 0, 1);
            if (byteIds[b] < 0) throw new IllegalStateException("no token for byte " + b);
        }
    }

    /** Appends the ids of {@code piece[0..length)}. */
    void encode(byte[] piece, int length, IntList out) {
        if (length == 0) return;
        if (wholePieceFirst) {
            int whole = tokens.idOf(piece, 0, length);
            if (whole >= 0) {
                out.add(whole);
                return;
            }
        }
        int[] symbols = new int[length];
        for (int i = 0; i < length; i++) symbols[i] = byteIds[piece[i] & 0xFF];
        BpeMerger.merge(symbols, length, merges, out);
    }
}
