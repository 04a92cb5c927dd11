package zq.cli;

import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import com.fasterxml.jackson.databind.node.ObjectNode;
import zq.formats.Checkpoint;
import zq.formats.HfJson;
import zq.gptq.pipeline.PeakMemory;
import zq.runtime.DecoderLayer;
import zq.validate.Perplexity;
import zq.validate.PerplexityResult;
import zq.validate.TokenFile;

import java.io.PrintWriter;
import zq.formats.text.CorpusFormat;
import zq.formats.text.TextCorpus;
import zq.formats.tokenizer.TokenizerLoader;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code zq ppl MODEL (--tokens FILE | --text FILE)}: perplexity over non-overlapping windows. */
@Command(name = "ppl", mixinStandardHelpOptions = true,
        description = {"Perplexity of a model (dense or GPTQ) on a token stream: non-overlapping windows of --seqlen "
                + "tokens, each predicting its tokens 2..n; ppl = exp(sum nll / predicted tokens)."})
public final class PplCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL", description = "Model folder (config.json + safetensors).")
    Path model;

    /** The token stream a quality command scores: {@code --tokens FILE} or {@code --text FILE}, exactly one. */
    static final class TokenInput {
        @Option(names = "--tokens", paramLabel = "FILE", description = "Whitespace-separated integer token ids.")
        Path tokens;

        @Option(names = "--text", paramLabel = "FILE", description = {"Text tokenized with the model's own tokenizer: "
                + "plain text, .jsonl with a \"text\" field, or 360Zhinao conversation .json (chat template); "
                + ".gz/.xz/.bz2/.zst allowed."})
        Path text;

        /** The token ids; text is tokenized with the tokenizer found in {@code modelDir}. */
        int[] read(Path modelDir) {
            if (text != null) return TextCorpus.load(text, (CorpusFormat) null, TokenizerLoader.load(modelDir)).tokens();
            return TokenFile.read(tokens);
        }
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    TokenInput input;

    /** Window length when --seqlen is not given (or the model's context, when that is shorter). */
    static final int DEFAULT_SEQLEN = 2048;

    @Option(names = "--seqlen", paramLabel = "N", description = {"Window length, up to the model's max_position_embeddings "
            + "(default: " + DEFAULT_SEQLEN + ", or the context when shorter). Memory grows linearly with it."})
    Integer seqLen;

    @Option(names = "--chunk", paramLabel = "N", defaultValue = "" + DecoderLayer.DEFAULT_CHUNK_ROWS, description = {"Positions "
            + "per chunk inside a layer: a longer window is processed chunk by chunk against its KV cache (default: ${DEFAULT-VALUE})."})
    int chunk;

    @Option(names = "--max-windows", paramLabel = "N", description = "Score only the first N windows.")
    Integer maxWindows;

    @Option(names = "--json", description = "Print one JSON object (ppl, tokens, windows, seqlen, nll_mean, peak_rss_bytes).")
    boolean json;

    /** {@code --max-windows}: absent means every window (0 to the library). */
    static int maxWindows(Integer maxWindows) {
        if (maxWindows == null) return 0;
        if (maxWindows < 1) throw new IllegalArgumentException("--max-windows must be at least 1, got " + maxWindows);
        return maxWindows;
    }

    @Override public Integer call() {
        int windows = maxWindows(maxWindows);
        int[] tokens = input.read(model);
        PerplexityResult r;
        try (Checkpoint ck = Checkpoint.open(model)) {
            int context = ck.config().maxPositionEmbeddings();
            if (seqLen == null) seqLen = Math.min(DEFAULT_SEQLEN, context);
            if (seqLen > context) {
                throw new IllegalArgumentException("--seqlen " + seqLen + " is longer than the context of " + model
                        + " (max_position_embeddings " + context + "); convert with --max-position-embeddings to score longer windows");
            }
            Perplexity.Options o = Perplexity.Options.of(seqLen, windows);
            r = Perplexity.run(ck, tokens, new Perplexity.Options(o.seqLen(), o.maxWindows(), o.tokensPerPass(), chunk,
                    o.headSliceRows(), o.logitChunkRows()));
        }
        long peak = PeakMemory.peakRssBytes();
        PrintWriter out = spec.commandLine().getOut();
        ObjectNode result = r.toJson();
        result.put("peak_rss_bytes", peak);
        out.print(json ? HfJson.pretty(result)
                : r.toText() + String.format(Locale.ROOT, "  peak RSS %.0f MiB%n", peak / 1048576.0));
        out.flush();
        return 0;
    }
}
