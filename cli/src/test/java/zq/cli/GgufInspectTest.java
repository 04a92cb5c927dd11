package zq.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import zq.formats.Architecture;
import zq.formats.Checkpoint;
import zq.formats.CheckpointStats;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static zq.cli.CliRun.zq;

/** {@code zq inspect FILE.gguf} and the export's refusals, through the command line. */
class GgufInspectTest {
    @TempDir Path tmp;

    @Test
    void inspectListsMetadataTypesAndTheSourcesParameterCount() throws Exception {
        Path model = GgufModels.write(tmp.resolve("m"), GgufModels.config(Architecture.QWEN2, 64, 4, 2), 1);
        Path gguf = tmp.resolve("m.gguf");
        CliRun c = zq("convert", model.toString(), "-o", gguf.toString(), "--to", "gguf", "--dtype", "q8_0");
        assertEquals(0, c.code(), c.err());
        assertTrue(c.out().contains("GGUF qwen2, Linears Q8_0"), c.out());
        CliRun text = zq("inspect", gguf.toString(), "--tensors");
        assertEquals(0, text.code(), text.err());
        assertTrue(text.out().contains("qwen2.attention.head_count_kv") && text.out().contains("blk.1.attn_q.bias"), text.out());
        JsonNode j = new ObjectMapper().readTree(zq("inspect", gguf.toString(), "--json").out());
        long params;
        try (Checkpoint ck = Checkpoint.open(model)) {
            params = CheckpointStats.of(ck).parameters();
        }
        assertEquals(params, j.get("parameters").asLong(), "the GGUF holds every parameter of the checkpoint once");
        assertEquals("qwen2", j.get("metadata").get("general.architecture").asText());
        assertTrue(j.get("types").has("Q8_0") && j.get("types").has("F32"), j.toString());

        Path cut = tmp.resolve("cut.gguf");
        byte[] all = Files.readAllBytes(gguf);
        Files.write(cut, Arrays.copyOf(all, all.length - 100));
        CliRun bad = zq("inspect", cut.toString());
        assertEquals(2, bad.code());
        assertTrue(bad.err().startsWith("zq: " + cut) && bad.err().contains("truncated") && bad.err().strip().lines().count() == 1, bad.err());
    }

    @Test
    void refusalsAreOneLineAndLeaveNoFile() throws Exception {
        Path model = GgufModels.write(tmp.resolve("m"), GgufModels.config(Architecture.LLAMA, 48, 4, 2), 1);
        CliRun q8 = zq("convert", model.toString(), "-o", tmp.resolve("x.gguf").toString(), "--to", "gguf", "--dtype", "q8_0");
        assertEquals(2, q8.code());
        assertTrue(q8.err().contains("rows of 48 values, not a multiple of the Q8_0 block size 32"), q8.err());
        CliRun type = zq("convert", model.toString(), "-o", tmp.resolve("x.gguf").toString(), "--to", "gguf", "--dtype", "q5_k");
        assertEquals(2, type.code());
        assertTrue(type.err().contains("not a GGUF type"), type.err());
        assertEquals(0, zq("convert", model.toString(), "-o", tmp.resolve("ok.gguf").toString(), "--to", "gguf").code());
        CliRun again = zq("convert", model.toString(), "-o", tmp.resolve("ok.gguf").toString(), "--to", "gguf");
        assertEquals(2, again.code());
        assertTrue(again.err().contains("already exists"), again.err());
        assertFalse(Files.exists(tmp.resolve("x.gguf")));
        try (var s = Files.list(tmp)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith(".")), "no partial output is left");
        }
    }
}
