package zq.gptq.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import zq.formats.CheckpointException;
import zq.formats.DType;
import zq.formats.HalfFloats;
import zq.formats.SafetensorsFile;
import zq.formats.SafetensorsWriter;
import zq.formats.TensorData;

/**
 * The fp16 copy of an unquantised tensor, converted in parallel slices over more than one read chunk: every value is
 * the round-to-nearest-even half of {@link HalfFloats#floatToF16} (itself checked on hand-worked bit patterns in
 * {@code HalfFloatsTest}), in order, and the first value fp16 cannot hold is named by its flat index even when it lies
 * in a later chunk and a later slice.
 */
class Fp16TensorTest {
    @TempDir Path tmp;

    private static final int N = TensorData.CHUNK + 200_003; // two read chunks, the second one partial

    private static float[] values(long seed) {
        Random r = new Random(seed);
        float[] v = new float[N];
        for (int i = 0; i < N; i++) v[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(9) - 6));
        v[17] = 65504f;   // the largest half
        v[N - 1] = -65504f;
        v[1000] = 0x1p-24f; // the smallest subnormal half
        return v;
    }

    private SafetensorsFile fileWith(float[] v) throws Exception {
        Path f = tmp.resolve("t" + System.nanoTime() + ".safetensors");
        SafetensorsWriter.write(f, Map.of(), List.of(new SafetensorsWriter.Entry("model.embed_tokens.weight", DType.F32,
                new long[] {N}, TensorData.floats(v, DType.F32))));
        return SafetensorsFile.open(f);
    }

    @Test
    void everyValueIsItsNearestHalfInOrder() throws Exception {
        float[] v = values(3);
        try (SafetensorsFile file = fileWith(v)) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            Fp16Tensor.of(file, "model.embed_tokens.weight").writeTo(Channels.newChannel(bytes));
            ByteBuffer b = ByteBuffer.wrap(bytes.toByteArray()).order(ByteOrder.LITTLE_ENDIAN);
            assertEquals(2L * N, b.remaining());
            short[] got = new short[N];
            b.asShortBuffer().get(got);
            short[] expected = new short[N];
            for (int i = 0; i < N; i++) expected[i] = HalfFloats.floatToF16(v[i]);
            assertArrayEquals(expected, got);
            assertEquals(0x7BFF, got[17] & 0xFFFF);
            assertEquals(0x0001, got[1000] & 0xFFFF);
        }
    }

    @Test
    void theFirstValueOutOfRangeIsNamedByItsIndex() throws Exception {
        float[] v = values(4);
        int bad = TensorData.CHUNK + 70_001; // second chunk, second slice
        v[bad] = 65520f;                     // ties to even: rounds to infinity
        v[bad + 5] = 1e6f;
        try (SafetensorsFile file = fileWith(v)) {
            CheckpointException e = assertThrows(CheckpointException.class,
                    () -> Fp16Tensor.of(file, "model.embed_tokens.weight").writeTo(Channels.newChannel(new ByteArrayOutputStream())));
            assertTrue(e.getMessage().contains("tensor 'model.embed_tokens.weight' holds 65520.0 at flat index " + bad), e.getMessage());
        }
    }
}
