package zq.convert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import zq.formats.Architecture;
import zq.formats.CheckpointException;
import zq.formats.CompanionFiles;
import zq.formats.ModelConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * The companion files of a converted checkpoint: the shared set (tokenizer, generation settings,
 * remote code, licence; {@link CompanionFiles}) plus, for a GPTQ output, its
 * quantize_config.json pointed at the new weight files. A Qwen2 output gets no remote-code files
 * and stock tokenizer files, a Zhinao output 360's tokenizer_config.json ({@link TokenizerFiles}).
 */
final class ConvertedCompanionFiles {
    private ConvertedCompanionFiles() {}

    /**
     * Copies the companion files of {@code from} into {@code to}. With {@code dense} the GPTQ
     * quantize_config.json is dropped; otherwise it is kept, pointed at the new weight files.
     * {@code tokenizer} (may be null) rewrites the tokenizer files for {@code target}.
     * Returns the relative paths copied.
     */
    static List<String> copy(Path from, Path to, boolean dense, Architecture target, TokenizerFiles tokenizer,
                             ModelConfig outConfig) throws IOException {
        List<String> copied = new ArrayList<>(CompanionFiles.copy(from, to,
                target == Architecture.QWEN2 ? TokenizerFiles::isRemoteCode : name -> false));
        if (tokenizer != null && target == Architecture.QWEN2) tokenizer.writeQwen2(from, to, outConfig.maxPositionEmbeddings());
        if (tokenizer != null && target == Architecture.ZHINAO) tokenizer.writeZhinao(from, to);
        Path quantizeConfig = from.resolve(ModelConfig.QUANTIZE_CONFIG);
        if (!dense && Files.isRegularFile(quantizeConfig)) {
            writeQuantizeConfig(quantizeConfig, to.resolve(ModelConfig.QUANTIZE_CONFIG));
            copied.add(ModelConfig.QUANTIZE_CONFIG);
        }
        return copied;
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
