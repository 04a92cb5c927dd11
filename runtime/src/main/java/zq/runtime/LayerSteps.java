package zq.runtime;

import zq.formats.ModelConfig;
import zq.runtime.InputGroup.Kind;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * One decoder layer as four steps, one per {@link InputGroup}: the step of a group applies its Linears to the
 * group's input and yields the next group's input. On a chunk of windows whose residual stream is {@code x}:
 * <pre>
 *   input(ATTENTION) = rmsnorm(x, input_layernorm)
 *   step(ATTENTION)  = attention(rope(q, k), v) of qkv(input)        → input(OUTPUT)
 *   step(OUTPUT)     : x += o(input); rmsnorm(x, post_attention_layernorm) → input(MLP)
 *   step(MLP)        = silu(gate(input)) · up(input)                   → input(DOWN)
 *   step(DOWN)       : x += down(input)                                (the layer's output is x)
 * </pre>
 * {@link DecoderLayer#forward} runs the steps back to back; GPTQ runs each step over all chunks, quantises the next
 * group, and goes on, so that every group reads the outputs of the already quantised groups before it. Running the
 * steps in either way gives bit-identical numbers: each step is the same sequence of operations on the same rows.
 *
 * <p>A group's weights are copied to native memory when its step first runs and again after {@link #update}
 * changed them. Not thread-safe; valid until the next {@link DecoderLayer#steps} call on the same workspace.
 */
public final class LayerSteps {
    private final ModelConfig config;
    private final Attention attention;
    private final FusedQkv fused;
    private final NativeWorkspace workspace;
    private final LayerKv scratch;
    private final Map<Kind, Resident> resident = new EnumMap<>(Kind.class);
    private LayerWeights weights;

    /** A group's weights in native memory, one matrix per Linear of {@code from} (q/k/v stacked into one), and their biases. */
    private record Resident(List<Linear> from, List<NativeMatrix> matrices, QkvProjection qkv) {}

    /** @param scratch keys and values of chunks of whole windows (each window resets it) */
    LayerSteps(ModelConfig config, Attention attention, FusedQkv fused, NativeWorkspace workspace, LayerKv scratch, LayerWeights weights) {
        this.config = config;
        this.scratch = scratch;
        this.attention = attention;
        this.fused = fused;
        this.workspace = workspace;
        this.weights = weights;
    }

    public LayerWeights weights() { return weights; }

    /**
     * Uses {@code w} from now on; groups whose Linears changed are copied to native memory again when next used. Their
     * old native copies are forgotten now, so that the replaced weights are not kept alive by them.
     */
    public void update(LayerWeights w) {
        if (w.index() != weights.index()) throw new IllegalArgumentException("weights of layer " + w.index() + " given to layer " + weights.index());
        weights = w;
        resident.entrySet().removeIf(e -> !sameLinears(e.getValue().from(), linears(e.getKey())));
    }

    /**
     * Frees the native memory of the workspace (resident weights and gemm buffers) until the next step needs it again.
     * GPTQ calls this before each solve, which uses none of it: the solve's own native matrices (the factor of an
     * intermediate-wide Hessian is 0.7 GB at 7B width) then replace these instead of adding to them. Refilling costs a
     * copy and first-touch page faults, well under a second per layer at 7B width against a solve of tens of seconds.
     */
    public void releaseNative() {
        resident.clear();
        workspace.close();
    }

    /**
     * Group {@code kind}'s input for chunk {@code c}, computed from its residual stream as it stands: an RMSNorm for
     * attention and MLP, or the previous group's step for o and down (so those must be asked before the residual
     * moves on: o's input before step(OUTPUT), down's before step(DOWN)).
     */
    public float[] input(Kind kind, Chunk c) {
        return switch (kind) {
            case ATTENTION -> RmsNorm.apply(c.x(), c.rows(), weights.inputNorm(), config.rmsNormEps());
            case MLP -> RmsNorm.apply(c.x(), c.rows(), weights.postAttentionNorm(), config.rmsNormEps());
            case OUTPUT, DOWN -> step(kind.previous(), c, input(kind.previous(), c));
        };
    }

    /** Applies group {@code kind} to its {@code input}; returns the next group's input (null after DOWN). */
    public float[] step(Kind kind, Chunk c, float[] input) {
        int rows = c.rows();
        Resident r = resident(kind);
        return switch (kind) {
            case ATTENTION -> {
                QkvProjection p = r.qkv();
                float[][] qkv = p.split(addBias(r.matrices().get(0).multiplyTransposed(input, rows), p.bias(), rows), rows);
                yield attend(qkv, c);
            }
            case OUTPUT -> {
                addInPlace(c.x(), multiply(r, 0, input, rows));
                yield input(Kind.MLP, c);
            }
            case MLP -> {
                float[] gate = multiply(r, 1, input, rows);
                float[] up = multiply(r, 0, input, rows);
                swiGlu(gate, up);
                yield gate;
            }
            case DOWN -> {
                addInPlace(c.x(), multiply(r, 0, input, rows));
                yield null;
            }
        };
    }

    /**
     * Attention for the chunk's rows: whole windows through the scratch cache, or a run of positions of a longer
     * sequence against its cache, which is first cut back to the run's start (so a step may run again, as GPTQ does
     * after quantising a group, provided the runs of one sequence go in order).
     */
    private float[] attend(float[][] qkv, Chunk c) {
        if (c.cache() == null) return attention.apply(qkv[0], qkv[1], qkv[2], c.lengths(), scratch);
        LayerKv kv = c.cache();
        if (c.start() == 0) kv.reset(c.sequenceLength());
        else kv.truncate(c.start());
        float[] out = new float[c.rows() * config.numHeads() * config.headDim()];
        attention.apply(qkv[0], qkv[1], qkv[2], 0, c.rows(), kv, out);
        return out;
    }

    /** The whole layer on one chunk, updating its residual stream in place; {@code observer} sees each group's input. */
    public void forward(Chunk c, LinearInputObserver observer) {
        float[] in = input(Kind.ATTENTION, c);
        for (Kind k : Kind.values()) {
            observer.observe(new InputGroup(weights.index(), k, k.linears(weights.layout())), in, c.lengths());
            in = step(k, c, in);
        }
    }

    /** The group's weights in native memory, copied there again when its Linears changed since the last copy. */
    private Resident resident(Kind kind) {
        List<Linear> from = linears(kind);
        Resident r = resident.get(kind);
        if (r != null && sameLinears(r.from(), from)) return r;
        if (kind == Kind.ATTENTION) {
            QkvProjection qkv = QkvProjection.of(from, fused);
            r = new Resident(from, List.of(workspace.load("QKV_PROJECTION", qkv.weight(), qkv.outFeatures(), qkv.in())), qkv);
        } else {
            // one slot per role: up and gate are both resident while the MLP step runs
            r = new Resident(from, from.stream().map(l -> workspace.load(l.ref().role().name(), l.weight(), l.outFeatures(),
                    l.inFeatures())).toList(), null);
        }
        resident.put(kind, r);
        return r;
    }

    /** The Linears of group {@code kind}, in the order their native copies are made. */
    private List<Linear> linears(Kind kind) {
        return switch (kind) {
            case ATTENTION -> weights.attention();
            case OUTPUT -> List.of(weights.o());
            case MLP -> List.of(weights.up(), weights.gate());
            case DOWN -> List.of(weights.down());
        };
    }

    /** {@code x[rows × in] · Wᵀ + b} for Linear {@code i} of a resident group. */
    private static float[] multiply(Resident r, int i, float[] x, int rows) {
        return addBias(r.matrices().get(i).multiplyTransposed(x, rows), r.from().get(i).bias(), rows);
    }

    private static boolean sameLinears(List<Linear> a, List<Linear> b) {
        if (a.size() != b.size()) return false;
        for (int i = 0; i < a.size(); i++) if (a.get(i) != b.get(i)) return false;
        return true;
    }

    private static float[] addBias(float[] y, float[] b, int rows) {
        if (b != null) {
            int out = b.length;
            for (int r = 0; r < rows; r++) for (int i = 0; i < out; i++) y[r * out + i] += b[i];
        }
        return y;
    }

    /** {@code gate ← silu(gate) · up}, silu(g) = g / (1 + e^−g), in fp32 as PyTorch computes it. */
    static void swiGlu(float[] gate, float[] up) {
        swiGlu(gate, up, VectorSupport.AVAILABLE);
    }

    /** As {@link #swiGlu(float[], float[])}, on the Vector API or not (tests run both); the same bits either way. */
    static void swiGlu(float[] gate, float[] up, boolean vectorized) {
        int pieces = (gate.length + PIECE - 1) / PIECE;
        IntStream.range(0, pieces).parallel().forEach(p -> {
            int from = p * PIECE, end = Math.min(gate.length, from + PIECE);
            for (int i = vectorized ? VectorKernels.swiGlu(gate, up, from, end) : from; i < end; i++) {
                float g = gate[i];
                gate[i] = g / (1f + FloatExp.exp(-g)) * up[i];
            }
        });
    }

    /** Elements per task of the element-wise loops: large enough that a task is a tight loop. */
    private static final int PIECE = 1 << 16;

    static void addInPlace(float[] x, float[] y) {
        for (int i = 0; i < x.length; i++) x[i] += y[i];
    }
}
