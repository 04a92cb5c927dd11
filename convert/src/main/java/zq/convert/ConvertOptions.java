package zq.convert;

import zq.formats.Architecture;
import zq.formats.DType;
import zq.formats.ShardedWriter;

/**
 * What one {@code zq convert} pass changes; null (or false) leaves that aspect as the input has it.
 *
 * @param ropeBase              new rope_theta
 * @param maxPositionEmbeddings new max_position_embeddings
 * @param ropeScaling           new rope_scaling block
 * @param removeRopeScaling     write {@code rope_scaling: null}
 * @param dtype                 target dtype of the floating-point tensors (bf16, f16 or f32)
 * @param target                {@link Architecture#QWEN2} from Zhinao or {@link Architecture#ZHINAO} from Qwen2
 * @param maxShardBytes         shard size limit of the output
 * @param allowOverflow         write values beyond the target dtype's range as infinity instead of failing
 */
public record ConvertOptions(Double ropeBase, Integer maxPositionEmbeddings, RopeScalingOption ropeScaling,
                             boolean removeRopeScaling, DType dtype, Architecture target, long maxShardBytes,
                             boolean allowOverflow) {

    public ConvertOptions {
        if (ropeBase != null && !(ropeBase > 0 && Double.isFinite(ropeBase))) {
            throw new IllegalArgumentException("--rope-base must be a positive number, got " + ropeBase);
        }
        if (maxPositionEmbeddings != null && maxPositionEmbeddings <= 0) {
            throw new IllegalArgumentException("--max-position-embeddings must be positive, got " + maxPositionEmbeddings);
        }
        if (ropeScaling != null && removeRopeScaling) {
            throw new IllegalArgumentException("--rope-scaling and --no-rope-scaling contradict each other");
        }
        if (dtype != null && !FloatConversion.isTarget(dtype)) {
            throw new IllegalArgumentException("--dtype " + dtype.torchName() + " is not supported (bf16, f16 or f32)");
        }
        if (target != null && target != Architecture.QWEN2 && target != Architecture.ZHINAO) {
            throw new IllegalArgumentException("--to " + target.modelType() + " is not supported (qwen2 or zhinao)");
        }
        if (maxShardBytes <= 0) throw new IllegalArgumentException("--max-shard-size must be positive");
    }

    /** Changes nothing: a re-write into HF shards of at most 5 GB. */
    public static ConvertOptions none() {
        return new ConvertOptions(null, null, null, false, null, null, ShardedWriter.DEFAULT_MAX_SHARD_BYTES, false);
    }

    public ConvertOptions withRopeBase(double v) {
        return new ConvertOptions(v, maxPositionEmbeddings, ropeScaling, removeRopeScaling, dtype, target, maxShardBytes, allowOverflow);
    }

    public ConvertOptions withMaxPositionEmbeddings(int v) {
        return new ConvertOptions(ropeBase, v, ropeScaling, removeRopeScaling, dtype, target, maxShardBytes, allowOverflow);
    }

    public ConvertOptions withRopeScaling(RopeScalingOption v) {
        return new ConvertOptions(ropeBase, maxPositionEmbeddings, v, removeRopeScaling, dtype, target, maxShardBytes, allowOverflow);
    }

    public ConvertOptions withoutRopeScaling() {
        return new ConvertOptions(ropeBase, maxPositionEmbeddings, ropeScaling, true, dtype, target, maxShardBytes, allowOverflow);
    }

    public ConvertOptions withDtype(DType v) {
        return new ConvertOptions(ropeBase, maxPositionEmbeddings, ropeScaling, removeRopeScaling, v, target, maxShardBytes, allowOverflow);
    }

    public ConvertOptions withTarget(Architecture v) {
        return new ConvertOptions(ropeBase, maxPositionEmbeddings, ropeScaling, removeRopeScaling, dtype, v, maxShardBytes, allowOverflow);
    }

    public ConvertOptions withMaxShardBytes(long v) {
        return new ConvertOptions(ropeBase, maxPositionEmbeddings, ropeScaling, removeRopeScaling, dtype, target, v, allowOverflow);
    }

    public ConvertOptions withAllowOverflow(boolean v) {
        return new ConvertOptions(ropeBase, maxPositionEmbeddings, ropeScaling, removeRopeScaling, dtype, target, maxShardBytes, v);
    }
}
