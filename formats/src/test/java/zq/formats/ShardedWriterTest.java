package zq.formats;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class ShardedWriterTest {
    @TempDir Path tmp;

    /** An F32 vector of {@code n} elements whose values are its position plus {@code base}. */
    private static SafetensorsWriter.Entry vector(String name, int n, float base) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = base + i;
        return new SafetensorsWriter.Entry(name, DType.F32, new long[]{n}, TensorData.floats(v, DType.F32));
    }

    private static List<String> names(List<SafetensorsWriter.Entry> shard) {
        return shard.stream().map(SafetensorsWriter.Entry::name).toList();
    }

    private static List<String> files(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test void shardsWithHfNamesIndexAndOversizedTensorAlone() throws Exception {
        // limit 1000 bytes; a, b, d, e are 400 bytes, c is 2000. huggingface_hub puts c in a shard of its
        // own at once and keeps filling the open shard: [c], [a, b], [d, e].
        List<SafetensorsWriter.Entry> entries = List.of(vector("a", 100, 0), vector("b", 100, 1000),
                vector("c", 500, 2000), vector("d", 100, 3000), vector("e", 100, 4000));
        List<List<SafetensorsWriter.Entry>> plan = ShardedWriter.plan(entries, 1000);
        assertEquals(List.of(List.of("c"), List.of("a", "b"), List.of("d", "e")), plan.stream().map(ShardedWriterTest::names).toList());

        ShardedWriter.write(tmp, SafetensorsWriter.defaultMetadata(), entries, 1000);
        assertEquals(List.of("model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
                "model-00003-of-00003.safetensors", "model.safetensors.index.json"), files(tmp));

        JsonNode index = new ObjectMapper().readTree(tmp.resolve(ShardedWriter.INDEX_FILE).toFile());
        assertEquals(4 * 400 + 2000, index.path("metadata").path("total_size").asLong());
        JsonNode wm = index.path("weight_map");
        List<String> keys = new ArrayList<>();
        wm.fieldNames().forEachRemaining(keys::add);
        assertEquals(List.of("a", "b", "c", "d", "e"), keys, "sorted, as transformers writes it");
        assertEquals("model-00001-of-00003.safetensors", wm.path("c").asText());
        assertEquals("model-00002-of-00003.safetensors", wm.path("a").asText());
        assertEquals("model-00002-of-00003.safetensors", wm.path("b").asText());
        assertEquals("model-00003-of-00003.safetensors", wm.path("e").asText());

        try (SafetensorsFile s3 = SafetensorsFile.open(tmp.resolve("model-00003-of-00003.safetensors"))) {
            assertEquals(List.of("d", "e"), s3.tensors().stream().map(TensorInfo::name).toList());
            float[] e = s3.readFloats(s3.require("e"));
            assertEquals(4000f, e[0]);
            assertEquals(4099f, e[99]);
            assertEquals("pt", s3.metadata().get("format"));
        }
    }

    @Test void oneShardIsModelSafetensorsWithoutIndex() throws Exception {
        ShardedWriter.write(tmp, SafetensorsWriter.defaultMetadata(), List.of(vector("a", 10, 0), vector("b", 10, 0)),
                ShardedWriter.DEFAULT_MAX_SHARD_BYTES);
        assertEquals(List.of("model.safetensors"), files(tmp));
        try (SafetensorsFile st = SafetensorsFile.open(tmp.resolve("model.safetensors"))) {
            assertArrayEquals(new float[]{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, st.readFloats(st.require("b")));
        }
    }

    @Test void exactlyFullShardStaysOne() {
        // 400 + 600 = 1000 is not over the limit
        var plan = ShardedWriter.plan(List.of(vector("a", 100, 0), vector("b", 150, 0), vector("c", 1, 0)), 1000);
        assertEquals(List.of(List.of("a", "b"), List.of("c")), plan.stream().map(ShardedWriterTest::names).toList());
    }

    /** Push-style: each tensor in plan order, with the planned byte count; a missing tensor fails finish(). */
    @Test void pushWriterChecksOrderSizeAndCompleteness() throws Exception {
        List<SafetensorsWriter.Planned> plan = List.of(vector("a", 10, 0).planned(), vector("b", 10, 0).planned());
        Path d1 = Files.createDirectory(tmp.resolve("order"));
        try (ShardedWriter w = ShardedWriter.open(d1, SafetensorsWriter.defaultMetadata(), plan, 1000)) {
            java.io.IOException e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
                    () -> w.put("b", vector("b", 10, 0).data()));
            assertEquals(d1 + ": tensor 'b' was written where the plan has 'a'", e.getMessage());
        }
        Path d2 = Files.createDirectory(tmp.resolve("size"));
        try (ShardedWriter w = ShardedWriter.open(d2, SafetensorsWriter.defaultMetadata(), plan, 1000)) {
            java.io.IOException e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
                    () -> w.put("a", vector("a", 9, 0).data()));
            assertEquals(d2.resolve(ShardedWriter.SINGLE_FILE) + ": tensor 'a' produced 36 bytes, expected 40", e.getMessage());
        }
        Path d3 = Files.createDirectory(tmp.resolve("missing"));
        try (ShardedWriter w = ShardedWriter.open(d3, SafetensorsWriter.defaultMetadata(), plan, 1000)) {
            w.put("a", vector("a", 10, 0).data());
            java.io.IOException e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class, w::finish);
            assertEquals(d3 + ": only 1 of 2 planned tensors were written; next was 'b'", e.getMessage());
        }
        Path d4 = Files.createDirectory(tmp.resolve("ok"));
        try (ShardedWriter w = ShardedWriter.open(d4, SafetensorsWriter.defaultMetadata(), plan, 1000)) {
            w.put("a", vector("a", 10, 0).data());
            w.put("b", vector("b", 10, 5).data());
            assertEquals(List.of(d4.resolve(ShardedWriter.SINGLE_FILE)), w.finish());
        }
        try (SafetensorsFile st = SafetensorsFile.open(d4.resolve(ShardedWriter.SINGLE_FILE))) {
            assertEquals(5f, st.readFloats(st.require("b"))[0]);
        }
    }
}
