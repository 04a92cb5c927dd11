package zq.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import zq.formats.Checkpoint;
import zq.formats.text.ChatMessage;
import zq.formats.text.ChatTemplate;
import zq.formats.tokenizer.IntList;
import zq.formats.tokenizer.Tokenizer;
import zq.formats.tokenizer.TokenizerLoader;
import zq.runtime.generate.GenerationRequest;
import zq.runtime.generate.GenerationResult;
import zq.runtime.generate.Generator;
import zq.runtime.generate.Session;
import zq.runtime.generate.StopTokens;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code zq generate MODEL --prompt TEXT}: continues a prompt, streaming the text to stdout. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Continue a prompt with a model (dense, GPTQ or converted), streaming the text to stdout: greedy at "
                + "temperature 0, stopping at the tokenizer's end tokens. Statistics go to stderr; --json prints one object instead."})
public final class GenerateCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL", description = "Model folder (config.json, safetensors, tokenizer).")
    Path model;

    static final class PromptInput {
        @Option(names = "--prompt", paramLabel = "TEXT", description = "The prompt.")
        String text;

        @Option(names = "--prompt-file", paramLabel = "FILE", description = "A UTF-8 file holding the prompt.")
        Path file;

        String read() {
            if (text != null) return text;
            try {
                return Files.readString(file, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(file + ": cannot read the prompt: " + e.getMessage(), e);
            }
        }
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    PromptInput prompt;

    @Option(names = "--chat", description = "Wrap the prompt as one user turn of a ChatML conversation (system message first).")
    boolean chat;

    @Option(names = "--system", paramLabel = "S", description = "System message for --chat (default: \"" + ChatTemplate.DEFAULT_SYSTEM + "\").")
    String system;

    @Mixin SamplingMixin sampling;

    @Option(names = "--json", description = "Print one JSON object: prompt_ids, generated_ids, text, stop_reason, tokens_per_second, ...")
    boolean json;

    @Override public Integer call() {
        if (system != null && !chat) throw new IllegalArgumentException("--system needs --chat");
        Tokenizer tokenizer = TokenizerLoader.load(model);
        String text = prompt.read();
        int[] ids = chat ? new ChatTemplate(tokenizer).encodeForGeneration(conversation(text)) : plain(tokenizer, text);
        PrintWriter out = spec.commandLine().getOut();
        GenerationResult r;
        try (Checkpoint ck = Checkpoint.open(model); Session session = new Session(ck)) {
            GenerationRequest request = new GenerationRequest(ids, sampling.maxNewTokens, sampling.sampling(),
                    StopTokens.defaults(tokenizer), sampling.stop);
            r = new Generator(session, tokenizer).generate(request, piece -> {
                if (!json) {
                    out.print(piece);
                    out.flush();
                }
            });
        }
        if (json) {
            out.println(toJson(r));
        } else {
            out.println();
            spec.commandLine().getErr().println(summary(r));
        }
        out.flush();
        return 0;
    }

    private List<ChatMessage> conversation(String user) {
        List<ChatMessage> c = new ArrayList<>();
        if (system != null) c.add(ChatMessage.system(system));
        c.add(ChatMessage.user(user));
        return c;
    }

    /** The prompt as one sequence: the tokenizer's own prefix (Llama 3's BOS), the text, no suffix (it is continued). */
    static int[] plain(Tokenizer tokenizer, String text) {
        IntList ids = new IntList();
        ids.addAll(tokenizer.prefixIds());
        ids.addAll(tokenizer.encode(text));
        return ids.toArray();
    }

    static ObjectNode toJson(GenerationResult r) {
        ObjectNode o = new ObjectMapper().createObjectNode();
        r.prompt();
        var p = o.putArray("prompt_ids");
        for (int id : r.prompt()) p.add(id);
        var g = o.putArray("generated_ids");
        for (int id : r.generated()) g.add(id);
        o.put("text", r.text());
        o.put("stop_reason", r.stopReason().jsonName());
        o.put("prompt_tokens", r.prompt().length);
        o.put("generated_tokens", r.generated().length);
        o.put("tokens_per_second", r.tokensPerSecond());
        o.put("prefill_seconds", r.prefillSeconds());
        o.put("kv_cache_bytes", r.kvCacheBytes());
        return o;
    }

    static String summary(GenerationResult r) {
        return String.format(Locale.ROOT, "zq: %d prompt tokens in %.2f s, %d generated at %.2f tokens/s, stopped: %s, KV cache %.1f MiB",
                r.prompt().length, r.prefillSeconds(), r.generated().length, r.tokensPerSecond(), r.stopReason().jsonName(),
                r.kvCacheBytes() / 1048576.0);
    }
}
