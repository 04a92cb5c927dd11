package zq.convert;

import com.fasterxml.jackson.databind.node.ObjectNode;
import zq.formats.Architecture;
import zq.formats.Checkpoint;
import zq.formats.CheckpointValues;
import zq.formats.ModelConfig;
import zq.formats.OutputFolder;
import zq.formats.SafetensorsWriter;
import zq.formats.ShardedWriter;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code zq convert}: rewrites a checkpoint in one streaming pass, applying any combination of
 * RoPE base/scaling and context-length changes, a dtype change, re-sharding and Zhinao ⇄ Qwen2.
 * Tensors that nothing changes are copied byte for byte. The output folder appears only complete,
 * after its files have been re-read and checked against its config.
 */
public final class CheckpointConverter {
    private CheckpointConverter() {}

    public static ConvertResult convert(Path modelDir, Path outDir, ConvertOptions options) throws IOException {
        try (Checkpoint in = Checkpoint.open(modelDir)) {
            // g_idx is small and copied as integers; an entry past the scale groups would crash every loader
            CheckpointValues.requireGroupIndexInRange(in);
            ObjectNode json = ConfigRewriter.rewrite(in.config(), options);
            TokenizerFiles tokenizer = TokenizerFiles.forTarget(modelDir, options.target());
            if (tokenizer != null && options.target() == Architecture.QWEN2) tokenizer.setStopIds(json);
            ModelConfig outConfig = ModelConfig.of(json, outDir.resolve("config.json"));
            List<SafetensorsWriter.Entry> entries = new ArrayList<>();
            for (PlannedTensor p : TensorPlanner.plan(in, outConfig)) {
                var dtype = p.outputDtype(options.dtype());
                entries.add(new SafetensorsWriter.Entry(p.name(), dtype, p.shape(),
                        new GatherData(p.gather(), dtype, options.allowOverflow())));
            }
            return write(modelDir, outDir, json, metadata(in), entries, options.maxShardBytes(), false,
                    options.target(), tokenizer);
        }
    }

    /** The input's file metadata (AutoGPTQ's notes, for one) with the format=pt transformers needs. */
    private static Map<String, String> metadata(Checkpoint in) {
        Map<String, String> m = new LinkedHashMap<>(in.files().get(0).metadata());
        m.putAll(SafetensorsWriter.defaultMetadata());
        return m;
    }

    /** Writes weights, config and companion files into a fresh folder, checks it, then commits it. */
    static ConvertResult write(Path modelDir, Path outDir, ObjectNode config, Map<String, String> metadata,
                               List<SafetensorsWriter.Entry> entries, long maxShardBytes, boolean dense,
                               Architecture target, TokenizerFiles tokenizer) throws IOException {
        try (OutputFolder out = OutputFolder.create(outDir)) {
            List<Path> files = ShardedWriter.write(out.dir(), metadata, entries, maxShardBytes);
            ModelConfig.write(config, out.dir().resolve("config.json"));
            ConvertedCompanionFiles.copy(modelDir, out.dir(), dense, target, tokenizer, ModelConfig.of(config, out.dir().resolve("config.json")));
            try (Checkpoint written = Checkpoint.open(out.dir())) {
                // opening re-reads every header and the index and checks the tensor set against the new config
            }
            out.commit();
            long bytes = 0;
            for (SafetensorsWriter.Entry e : entries) bytes += e.byteSize();
            int weightFiles = files.size() == 1 ? 1 : files.size() - 1; // all but the index
            return new ConvertResult(out.target(), entries.size(), weightFiles, bytes,
                    tokenizer == null ? null : tokenizer.describe(target));
        }
    }
}
