package zq.convert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import zq.formats.CheckpointException;
import zq.formats.ModelConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Copies everything of a model folder that is not weights or config.json: tokenizer files
 * (tokenizer.json, tokenizer_config.json, vocab/360.tiktoken, ...), generation_config.json,
 * remote code, README and licence. Weight files of any format are left out (the output has its own),
 * as are hidden entries such as .git.
 */
final class CompanionFiles {
    private CompanionFiles() {}

    private static final List<String> WEIGHT_SUFFIXES = List.of(".safetensors", ".safetensors.index.json", ".bin",
            ".bin.index.json", ".pt", ".pth", ".ckpt", ".gguf", ".h5", ".msgpack");

    /**
     * Copies the companion files of {@code from} into {@code to}. With {@code dense} the GPTQ
     * quantize_config.json is dropped; otherwise it is kept, pointed at the new weight files.
     * Returns the top-level entries copied.
     */
    static List<Path> copy(Path from, Path to, boolean dense) throws IOException {
        List<Path> copied = new ArrayList<>();
        try (Stream<Path> s = Files.list(from)) {
            for (Path p : s.sorted().toList()) {
                String name = p.getFileName().toString();
                if (!isCompanion(name) || (dense && name.equals(ModelConfig.QUANTIZE_CONFIG))) continue;
                Path target = to.resolve(name);
                if (name.equals(ModelConfig.QUANTIZE_CONFIG)) writeQuantizeConfig(p, target);
                else copyTree(p, target);
                copied.add(target);
            }
        }
        return copied;
    }

    static boolean isCompanion(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        if (name.startsWith(".") || name.equals("config.json")) return false;
        for (String suffix : WEIGHT_SUFFIXES) if (lower.endsWith(suffix)) return false;
        return true;
    }

    private static void copyTree(Path from, Path to) throws IOException {
        if (Files.isDirectory(from)) {
            Files.createDirectory(to);
            try (Stream<Path> s = Files.list(from)) {
                for (Path p : s.sorted().toList()) {
                    if (!p.getFileName().toString().startsWith(".")) copyTree(p, to.resolve(p.getFileName().toString()));
                }
            }
        } else {
            Files.copy(from, to); // follows symlinks, as in a Hugging Face cache snapshot
        }
    }

    private static void writeQuantizeConfig(Path from, Path to) throws IOException {
        JsonNode n;
        try {
            n = new ObjectMapper().readTree(from.toFile());
        } catch (IOException e) {
            throw new CheckpointException(from + ": not valid JSON: " + e.getMessage(), e);
        }
        if (!(n instanceof ObjectNode q)) throw new CheckpointException(from + ": not a JSON object");
        ConfigRewriter.pointAtModelFiles(q);
        ModelConfig.write(q, to);
    }
}
