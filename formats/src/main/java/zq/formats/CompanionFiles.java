package zq.formats;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * The files of a model folder besides its weights and config that a quantised copy needs to be usable:
 * tokenizer (Hugging Face files, tiktoken vocabularies, Zhinao's {@code vocab/} folder), generation and chat
 * settings, remote-code Python files (Zhinao loads with trust_remote_code) and license notices. Weights, their
 * indexes and configs are never copied (they are rewritten), nor is anything else (e.g. an {@code original/}
 * folder with multi-GB PyTorch files).
 */
public final class CompanionFiles {
    private static final Set<String> NAMES = Set.of("tokenizer.json", "tokenizer_config.json", "tokenizer.model",
            "special_tokens_map.json", "added_tokens.json", "vocab.json", "merges.txt", "generation_config.json",
            "chat_template.json", "chat_template.jinja", "preprocessor_config.json");
    /** Folders copied whole: Zhinao keeps its tiktoken vocabulary in vocab/. */
    private static final Set<String> FOLDERS = Set.of("vocab");

    private CompanionFiles() {}

    /** Whether {@code name} (a top-level entry of the model folder) is copied. */
    static boolean isCompanion(String name, boolean directory) {
        if (directory) return FOLDERS.contains(name);
        String lower = name.toLowerCase(Locale.ROOT);
        return NAMES.contains(name) || lower.endsWith(".tiktoken") || lower.endsWith(".py")
                || lower.startsWith("license") || lower.startsWith("notice") || lower.startsWith("readme");
    }

    /** Copies the companion files of {@code from} into {@code to}; returns their relative paths, sorted. */
    public static List<String> copy(Path from, Path to) throws IOException { return copy(from, to, name -> false); }

    /** {@link #copy(Path, Path)} without the top-level files whose names {@code skip} accepts. */
    public static List<String> copy(Path from, Path to, Predicate<String> skip) throws IOException {
        List<String> copied = new ArrayList<>();
        List<Path> entries;
        try (Stream<Path> s = Files.list(from)) {
            entries = s.sorted().toList();
        }
        for (Path p : entries) {
            String name = p.getFileName().toString();
            boolean dir = Files.isDirectory(p);
            if (!isCompanion(name, dir) || !(dir || Files.isRegularFile(p)) || (!dir && skip.test(name))) continue;
            if (dir) {
                try (Stream<Path> tree = Files.walk(p)) {
                    for (Path f : tree.filter(Files::isRegularFile).sorted().toList()) {
                        Path rel = from.relativize(f);
                        Path dst = to.resolve(rel.toString());
                        Files.createDirectories(dst.getParent());
                        Files.copy(f, dst, StandardCopyOption.COPY_ATTRIBUTES);
                        copied.add(rel.toString().replace('\\', '/'));
                    }
                }
            } else {
                Files.copy(p, to.resolve(name), StandardCopyOption.COPY_ATTRIBUTES);
                copied.add(name);
            }
        }
        return copied;
    }
}
