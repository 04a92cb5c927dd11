package zq.gptq.export;

import java.nio.file.Path;
import zq.formats.ShardedWriter;
import zq.gptq.pipeline.Calibration;
import zq.gptq.pipeline.PipelineOptions;

/**
 * One {@code zq quantize} run.
 *
 * @param input         dense model folder (config.json + safetensors)
 * @param output        folder to create; it appears only once complete
 * @param options       method and GPTQ settings
 * @param calibration   calibration windows; required for GPTQ, null for round-to-nearest
 * @param maxShardBytes largest weight file before the output is split into HF shards plus an index
 */
public record QuantizeRequest(Path input, Path output, PipelineOptions options, Calibration calibration, long maxShardBytes) {

    public QuantizeRequest {
        if (maxShardBytes <= 0) throw new IllegalArgumentException("max shard size must be positive, got " + maxShardBytes);
    }

    public static QuantizeRequest of(Path input, Path output, PipelineOptions options, Calibration calibration) {
        return new QuantizeRequest(input, output, options, calibration, ShardedWriter.DEFAULT_MAX_SHARD_BYTES);
    }
}
