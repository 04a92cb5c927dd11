package zq.formats.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

import com.fasterxml.jackson.databind.JsonNode;

import zq.formats.CheckpointException;

/**
 * The {@code pre_tokenizer} of a tokenizer.json: Split (regex or literal, any delimiter behavior,
 * optionally inverted), ByteLevel, and Sequence of those, with the semantics of Hugging Face
 * tokenizers ({@code NormalizedString::split}; empty pieces are dropped). Pieces are passed on as
 * slices of a string, without copying them.
 */
interface HfPreTokenizer {

    /** Receives one piece, {@code text[start..end)}. */
    interface Sink {
        void piece(String text, int start, int end);
    }

    /** Passes the pieces of {@code text[start..end)} to {@code sink}. */
    void split(String text, int start, int end, Sink sink);

    /** GPT-2's regex, which ByteLevel applies when {@code use_regex} is true. */
    String GPT2_REGEX = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    /** The pre-tokenizer described by {@code node} (null or JSON null: the whole text is one piece). */
    static HfPreTokenizer parse(JsonNode node, String file) {
        if (node == null || node.isNull()) return (text, start, end, sink) -> sink.piece(text, start, end);
        String type = node.path("type").asText("");
        switch (type) {
            case "Sequence": {
                List<HfPreTokenizer> steps = new ArrayList<>();
                for (JsonNode n : node.path("pretokenizers")) steps.add(parse(n, file));
                return new Sequence(steps);
            }
            case "Split": {
                JsonNode pattern = node.path("pattern");
                Pattern regex;
                if (pattern.has("Regex")) {
                    regex = compile(pattern.get("Regex").asText(), file);
                } else if (pattern.has("String")) {
                    regex = Pattern.compile(Pattern.quote(pattern.get("String").asText()));
                } else {
                    throw new CheckpointException(file + ": Split pre-tokenizer has no Regex or String pattern");
                }
                String behavior = node.path("behavior").asText("");
                if (!List.of("Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous").contains(behavior)) {
                    throw new CheckpointException(file + ": Split pre-tokenizer behavior '" + behavior + "' is not known");
                }
                return new Split(PieceSplitter.of(regex.pattern(), regex), behavior, node.path("invert").asBoolean(false));
            }
            case "ByteLevel":
                return new ByteLevel(node.path("add_prefix_space").asBoolean(true), node.path("use_regex").asBoolean(true));
            default:
                throw new CheckpointException(file + ": pre-tokenizer type '" + type
                        + "' is not supported (supported: Split, ByteLevel, Sequence)");
        }
    }

    /**
     * Java's regex with Unicode classes ({@code \s}, {@code \w} as in Oniguruma and Rust);
     * the Llama-3 and Qwen2 patterns need nothing else.
     */
    static Pattern compile(String regex, String file) {
        try {
            return Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS);
        } catch (PatternSyntaxException e) {
            throw new CheckpointException(file + ": pre-tokenizer regex cannot be compiled in Java: " + e.getDescription()
                    + " in " + regex, e);
        }
    }

    /** Whether ByteLevel is the last of the (flattened) steps of {@code node} and appears only there. */
    static boolean endsWithByteLevel(JsonNode node) {
        List<String> types = new ArrayList<>();
        flatten(node, types);
        return !types.isEmpty() && types.get(types.size() - 1).equals("ByteLevel")
                && types.indexOf("ByteLevel") == types.size() - 1;
    }

    private static void flatten(JsonNode node, List<String> types) {
        if (node == null || node.isNull()) return;
        String type = node.path("type").asText("");
        if (type.equals("Sequence")) {
            for (JsonNode n : node.path("pretokenizers")) flatten(n, types);
        } else {
            types.add(type);
        }
    }

    /** Applies each step to all pieces of the previous one. */
    record Sequence(List<HfPreTokenizer> steps) implements HfPreTokenizer {
        @Override
        public void split(String text, int start, int end, Sink sink) { splitFrom(0, text, start, end, sink); }

        private void splitFrom(int step, String text, int start, int end, Sink sink) {
            if (step == steps.size()) sink.piece(text, start, end);
            else steps.get(step).split(text, start, end, (t, s, e) -> splitFrom(step + 1, t, s, e, sink));
        }
    }

    /** Split on a pattern; {@code behavior} says what becomes of the matched delimiters. */
    record Split(PieceSplitter pattern, String behavior, boolean invert) implements HfPreTokenizer {
        @Override
        public void split(String text, int from, int to, Sink sink) {
            if (from == to) return;
            if (behavior.equals("Isolated")) {
                // every match and every gap is its own piece (the common case: Qwen2, Llama-3)
                int[] prev = {from};
                pattern.matches(text, from, to, (start, end) -> {
                    if (prev[0] != start) sink.piece(text, prev[0], start);
                    sink.piece(text, start, end);
                    prev[0] = end;
                });
                if (prev[0] != to) sink.piece(text, prev[0], to);
                return;
            }
            // (start, end, isDelimiter) covering the whole slice, as Pattern::find_matches gives them
            List<int[]> parts = new ArrayList<>();
            int[] prev = {from};
            pattern.matches(text, from, to, (start, end) -> {
                if (prev[0] != start) parts.add(new int[] {prev[0], start, invert ? 1 : 0});
                parts.add(new int[] {start, end, invert ? 0 : 1});
                prev[0] = end;
            });
            if (prev[0] != to) parts.add(new int[] {prev[0], to, invert ? 1 : 0});

            List<int[]> kept = new ArrayList<>();
            switch (behavior) {
                case "Removed" -> parts.stream().filter(p -> p[2] == 0).forEach(kept::add);
                case "Contiguous" -> {
                    boolean previousMatch = false;
                    for (int[] p : parts) {
                        boolean isMatch = p[2] == 1;
                        if (isMatch == previousMatch && !kept.isEmpty()) kept.get(kept.size() - 1)[1] = p[1];
                        else kept.add(p.clone());
                        previousMatch = isMatch;
                    }
                }
                case "MergedWithPrevious" -> {
                    boolean previousMatch = false;
                    for (int[] p : parts) {
                        boolean isMatch = p[2] == 1;
                        if (isMatch && !previousMatch && !kept.isEmpty()) kept.get(kept.size() - 1)[1] = p[1];
                        else kept.add(p.clone());
                        previousMatch = isMatch;
                    }
                }
                case "MergedWithNext" -> {
                    boolean previousMatch = false;
                    List<int[]> reversed = new ArrayList<>();
                    for (int i = parts.size() - 1; i >= 0; i--) {
                        int[] p = parts.get(i);
                        boolean isMatch = p[2] == 1;
                        if (isMatch && !previousMatch && !reversed.isEmpty()) reversed.get(reversed.size() - 1)[0] = p[0];
                        else reversed.add(p.clone());
                        previousMatch = isMatch;
                    }
                    for (int i = reversed.size() - 1; i >= 0; i--) kept.add(reversed.get(i));
                }
                default -> throw new IllegalStateException(behavior);
            }
            for (int[] p : kept) {
                if (p[1] > p[0]) sink.piece(text, p[0], p[1]);
            }
        }
    }

    /**
     * Optional prefix space and optional GPT-2 split. Hugging Face then writes each byte as its
     * {@link ByteLevelAlphabet} character; here the pieces stay text and the BPE model works on their
     * UTF-8 bytes, which is the same thing, so ByteLevel must be the last pre-tokenizer step.
     */
    record ByteLevel(boolean addPrefixSpace, boolean useRegex) implements HfPreTokenizer {
        private static final Split GPT2 = new Split(
                PieceSplitter.of(GPT2_REGEX, Pattern.compile(GPT2_REGEX, Pattern.UNICODE_CHARACTER_CLASS)), "Isolated", false);

        @Override
        public void split(String text, int start, int end, Sink sink) {
            if (start == end) return;
            if (addPrefixSpace && text.charAt(start) != ' ') {
                text = " " + text.substring(start, end);
                start = 0;
                end = text.length();
            }
            if (useRegex) GPT2.split(text, start, end, sink);
            else sink.piece(text, start, end);
        }
    }
}
