package zq.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import zq.formats.Checkpoint;
import zq.formats.text.ChatTemplate;
import zq.formats.tokenizer.Tokenizer;
import zq.formats.tokenizer.TokenizerLoader;
import zq.runtime.generate.Chat;
import zq.runtime.generate.GenerationResult;
import zq.runtime.generate.Generator;
import zq.runtime.generate.Session;
import zq.runtime.generate.StopTokens;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code zq chat MODEL}: a ChatML conversation in the terminal, one user message per line of stdin; replies
 * stream to stdout, the prompt and statistics go to stderr. {@code /reset} starts over, {@code /exit} (or end
 * of input) ends.
 */
@Command(name = "chat", mixinStandardHelpOptions = true,
        description = {"Interactive multi-turn ChatML chat with a model (dense, GPTQ or converted): one message per line; "
                + "/reset starts a new conversation, /exit or end of input quits. Replies go to stdout."})
public final class ChatCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL", description = "Model folder (config.json, safetensors, tokenizer).")
    Path model;

    @Option(names = "--system", paramLabel = "S", description = "System message (default: \"" + ChatTemplate.DEFAULT_SYSTEM + "\").")
    String system;

    @Mixin SamplingMixin sampling;

    @Option(names = "--stats", description = "After each reply, print tokens/s and the KV cache size on stderr.")
    boolean stats;

    @Override public Integer call() {
        Tokenizer tokenizer = TokenizerLoader.load(model);
        ChatTemplate template = new ChatTemplate(tokenizer);
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        try (Checkpoint ck = Checkpoint.open(model); Session session = new Session(ck)) {
            Chat chat = new Chat(new Generator(session, tokenizer), template, system,
                    new Chat.Settings(sampling.maxNewTokens, sampling.sampling(), StopTokens.defaults(tokenizer), sampling.stop));
            err.println("zq chat: " + ck.dir() + " (" + ck.config().architecture() + "); /reset starts over, /exit quits");
            while (true) {
                err.print("> ");
                err.flush();
                String line = in.readLine();
                if (line == null || line.strip().equals("/exit")) break;
                if (line.strip().equals("/reset")) {
                    chat.reset();
                    err.println("(new conversation)");
                    continue;
                }
                if (line.isBlank()) continue;
                GenerationResult r = chat.say(line, piece -> {
                    out.print(piece);
                    out.flush();
                });
                out.println();
                out.flush();
                if (stats) err.println(GenerateCommand.summary(r));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read stdin: " + e.getMessage(), e);
        }
        return 0;
    }
}
