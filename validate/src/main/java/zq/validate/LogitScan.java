package zq.validate;

import zq.runtime.NativeMatrix;
import zq.runtime.NativeWorkspace;
import zq.runtime.OutputHead;

import java.util.ArrayList;
import java.util.List;

/**
 * Computes the logits of one or more models slice by slice: for each slice of vocabulary rows (the
 * same ids for every model) and each chunk of positions, every model's logits are handed to a consumer
 * and then dropped. At no time is more than one head slice per model, or one chunk of logits, in memory.
 */
final class LogitScan {
    /** A model's output head and its final-normed hidden states {@code [rows × hidden]}. */
    record Input(OutputHead head, float[] hidden) {}

    interface Consumer {
        /** {@code logits.get(m)} is model m's {@code [rows × count]} for ids {@code v0..v0+count-1} at positions {@code row0..}. */
        void accept(int row0, int rows, int v0, int count, List<float[]> logits);
    }

    private LogitScan() {}

    static void run(NativeWorkspace workspace, List<Input> inputs, int rows, int rowChunk, Consumer consumer) {
        int vocab = inputs.get(0).head().vocabSize();
        int sliceRows = Integer.MAX_VALUE;
        for (Input in : inputs) {
            if (in.head().vocabSize() != vocab) throw new IllegalArgumentException("models differ in vocabulary size");
            sliceRows = Math.min(sliceRows, in.head().sliceRows());
        }
        for (int v0 = 0; v0 < vocab; v0 += sliceRows) {
            int count = Math.min(sliceRows, vocab - v0);
            List<NativeMatrix> slices = new ArrayList<>();
            for (int m = 0; m < inputs.size(); m++) slices.add(inputs.get(m).head().slice(workspace, "head-" + m, v0, count));
            for (int r0 = 0; r0 < rows; r0 += rowChunk) {
                int n = Math.min(rowChunk, rows - r0);
                List<float[]> logits = new ArrayList<>();
                for (int m = 0; m < inputs.size(); m++) {
                    int h = inputs.get(m).head().hiddenSize();
                    float[] chunk = new float[n * h];
                    System.arraycopy(inputs.get(m).hidden(), r0 * h, chunk, 0, chunk.length);
                    logits.add(slices.get(m).multiplyTransposed(chunk, n));
                }
                consumer.accept(r0, n, v0, count, logits);
            }
        }
    }
}
