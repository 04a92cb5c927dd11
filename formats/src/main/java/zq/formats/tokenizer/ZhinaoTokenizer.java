package zq.formats.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;

import zq.formats.CheckpointException;

/**
 * 360Zhinao's tokenizer ({@code tokenization_zhinao.py}): tiktoken BPE over {@code vocab/360.tiktoken}
 * with Qwen's split regex, eleven special tokens appended after the ranks, and the original
 * pre-processing: {@code [br]} and {@code <br>} become a newline and runs of spaces become the
 * {@code [space8] [space4] [space3] [space2]} tokens. Every special token's text in the input
 * becomes its id ({@code allowed_special="all"}).
 */
public final class ZhinaoTokenizer implements Tokenizer {
    /** Qwen's pre-tokenizer regex, identical in tokenization_zhinao.py (PAT_STR) and Qwen2. */
    public static final String SPLIT_REGEX = QwenStyleScanner.QWEN2_REGEX;

    /** Special tokens in id order; the first gets id = number of ranks. */
    public static final List<String> SPECIAL_TOKENS = List.of(
            "<pad>", "<unk>", "<mask>", "<eod>", "<eop>",
            "[space2]", "[space3]", "[space4]", "[space8]",
            "<|im_start|>", "<|im_end|>");

    /** Where a 360Zhinao model folder keeps its vocabulary. */
    public static final Path VOCAB_FILE = Path.of("vocab", "360.tiktoken");

    /** Specials dropped by {@code decode(skip_special_tokens=True)}; the space tokens are kept. */
    private static final Set<String> SKIPPED_ON_DECODE =
            Set.of("<pad>", "<unk>", "<mask>", "<eod>", "<eop>", "<|im_start|>", "<|im_end|>");

    /** The ids a chat model stops at (generation_config.json's eos_token_id), in id order. */
    public static final List<String> STOP_TOKENS = List.of("<eod>", "<|im_start|>", "<|im_end|>");

    /**
     * {@code SPTokenizer.convert} as (text, replacement) steps applied in order, each a plain
     * {@code str.replace}: line-break markup first, then space runs longest first.
     */
    public static final List<String[]> PREPROCESSING = List.of(
            new String[] {"[br]", "\n"}, new String[] {"<br>", "\n"},
            new String[] {"        ", "[space8]"}, new String[] {"    ", "[space4]"},
            new String[] {"   ", "[space3]"}, new String[] {"  ", "[space2]"});

    /** {@code SPTokenizer.deconvert}: each space token's text back to its spaces ([space2] first, dict order). */
    public static final List<String[]> POSTPROCESSING = List.of(
            new String[] {"[space2]", "  "}, new String[] {"[space3]", "   "},
            new String[] {"[space4]", "    "}, new String[] {"[space8]", "        "});

    private final TiktokenRanks ranks;
    private final TiktokenEncoder encoder;
    private final Map<String, Integer> specials = new LinkedHashMap<>();
    private final String[] specialTextById;
    private final int firstSpecialId;
    private final LiteralMatcher specialMatcher;

    public ZhinaoTokenizer(TiktokenRanks ranks) {
        this.ranks = ranks;
        this.encoder = new TiktokenEncoder(ranks, SPLIT_REGEX);
        this.firstSpecialId = ranks.count();
        this.specialTextById = SPECIAL_TOKENS.toArray(new String[0]);
        for (int i = 0; i < SPECIAL_TOKENS.size(); i++) {
            int id = firstSpecialId + i;
            if (ranks.contains(id)) {
                throw new CheckpointException("tiktoken vocabulary " + ranks.source() + " has a rank " + id
                        + ", which 360Zhinao gives to the special token " + SPECIAL_TOKENS.get(i)
                        + " (specials follow the " + ranks.count() + " ranks)");
            }
            specials.put(SPECIAL_TOKENS.get(i), id);
        }
        this.specialMatcher = new LiteralMatcher(specials);
    }

    /** Loads {@code vocab/360.tiktoken} (or the given .tiktoken file). */
    public static ZhinaoTokenizer load(Path tiktokenFile) {
        return new ZhinaoTokenizer(TiktokenRanks.read(tiktokenFile));
    }

    public TiktokenRanks ranks() { return ranks; }

    /** {@code SPTokenizer.convert}: line-break markup to newlines, space runs to space tokens. */
    public static String preprocess(String text) { return replaceAll(text, PREPROCESSING); }

    /** {@code SPTokenizer.deconvert}: space tokens' text back to spaces. */
    public static String postprocess(String text) { return replaceAll(text, POSTPROCESSING); }

    private static String replaceAll(String text, List<String[]> steps) {
        for (String[] s : steps) {
            if (text.contains(s[0])) text = text.replace(s[0], s[1]);
        }
        return text;
    }

    /** Whether {@code special} is one of the four {@code [spaceN]} tokens, which decoding keeps. */
    public static boolean isSpaceToken(String special) {
        return SPECIAL_TOKENS.contains(special) && !SKIPPED_ON_DECODE.contains(special);
    }

    @Override
    public int[] encode(String text) {
        String converted = preprocess(Texts.replaceLoneSurrogates(text));
        IntList out = new IntList(Math.max(16, converted.length() / 3));
        int at = 0;
        for (LiteralMatcher.Match m : specialMatcher.findAll(converted)) {
            if (m.start() > at) encoder.encode(converted.substring(at, m.start()), out);
            out.add(m.id());
            at = m.end();
        }
        if (at < converted.length()) encoder.encode(converted.substring(at), out);
        return out.toArray();
    }

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(ids.length * 4);
        for (int id : ids) {
            String special = specialText(id);
            if (special != null) {
                if (skipSpecialTokens && SKIPPED_ON_DECODE.contains(special)) continue;
                bytes.writeBytes(special.getBytes(StandardCharsets.UTF_8));
            } else {
                bytes.writeBytes(rankBytes(id));
            }
        }
        return postprocess(LossyUtf8.decode(bytes.toByteArray()));
    }

    @Override
    public String piece(int id) {
        String special = specialText(id);
        return special != null ? special : Texts.displayBytes(rankBytes(id));
    }

    @Override
    public byte[] tokenBytes(int id) {
        String special = specialText(id);
        return special != null ? special.getBytes(StandardCharsets.UTF_8) : rankBytes(id).clone();
    }

    private String specialText(int id) {
        int i = id - firstSpecialId;
        return i >= 0 && i < specialTextById.length ? specialTextById[i] : null;
    }

    private byte[] rankBytes(int id) {
        if (!ranks.contains(id)) {
            throw new IllegalArgumentException("token id " + id + " is not in the 360Zhinao vocabulary "
                    + ranks.source() + " (ids 0.." + (vocabSize() - 1) + ")");
        }
        return ranks.table().bytes(id);
    }

    @Override
    public int vocabSize() { return Math.max(ranks.rankLimit(), firstSpecialId + specialTextById.length); }

    @Override
    public OptionalInt specialId(String text) {
        Integer id = specials.get(text);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    @Override
    public Map<String, Integer> specialTokens() { return java.util.Collections.unmodifiableMap(specials); }

    @Override
    public boolean isSpecial(int id) { return specialText(id) != null; }

    @Override
    public int[] prefixIds() { return new int[0]; }

    @Override
    public int[] suffixIds() { return new int[0]; }

    @Override
    public String description() {
        return "360Zhinao tiktoken BPE, " + ranks.count() + " ranks + " + specialTextById.length
                + " special tokens, from " + ranks.source();
    }
}
