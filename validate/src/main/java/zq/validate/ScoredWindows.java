package zq.validate;

import zq.formats.Checkpoint;
import zq.formats.CheckpointException;

import java.util.List;
import java.util.Locale;

/**
 * The checks every scoring run makes before a layer runs and after the last: the windows fit the models' positions and
 * the text, and the perplexity that comes out is a number. Each failure is bad input (exit 2), never a quality verdict.
 */
final class ScoredWindows {
    private ScoredWindows() {}

    /** The windows of {@code tokens}, after checking them against every model. */
    static List<int[]> of(int[] tokens, Perplexity.Options options, Checkpoint... models) {
        int seqLen = options.seqLen();
        for (Checkpoint m : models) {
            TokenFile.checkVocabulary(tokens, m.config().vocabSize(), m.dir().toString());
            m.config().checkSeqLen(seqLen, m.dir());
        }
        if (tokens.length < seqLen) {
            throw new CheckpointException("the text has " + tokens.length + " tokens, fewer than one window of --seqlen " + seqLen
                    + "; pass --seqlen " + tokens.length + " or less, or a longer text");
        }
        return TokenWindows.split(tokens, seqLen, options.maxWindows());
    }

    /** {@code ppl} itself, or an error naming what usually makes a model's perplexity NaN or infinite. */
    static double requireFinite(double ppl, Checkpoint model) {
        if (Double.isFinite(ppl)) return ppl;
        throw new CheckpointException(String.format(Locale.ROOT, "%s: perplexity is %s, so the model's logits are not finite numbers; "
                + "likely causes: NaN or infinite weights (zq inspect checks them), a config value such as rms_norm_eps %s or "
                + "rope_theta %s out of range, or fp16 overflow in a fine-tuned model", model.dir(), ppl,
                model.config().rmsNormEps(), model.config().ropeTheta()));
    }
}
