package zq.convert;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class RopeScalingOptionTest {

    private static String error(String text) {
        return assertThrows(IllegalArgumentException.class, () -> RopeScalingOption.parse(text)).getMessage();
    }

    @Test void writesEachTypeWithItsKeys() {
        assertEquals("{\"rope_type\":\"linear\",\"type\":\"linear\",\"factor\":2.0}", RopeScalingOption.parse("linear:factor=2").toJson().toString());
        assertEquals("{\"rope_type\":\"dynamic\",\"type\":\"dynamic\",\"factor\":4.0,\"original_max_position_embeddings\":4096}",
                RopeScalingOption.parse("Dynamic: original_max_position_embeddings=4096, factor=4").toJson().toString());
        assertEquals("{\"rope_type\":\"yarn\",\"type\":\"yarn\",\"factor\":4.0,\"beta_fast\":32.0,\"beta_slow\":1.0}",
                RopeScalingOption.parse("yarn:beta_slow=1,factor=4,beta_fast=32").toJson().toString());
        assertEquals("{\"rope_type\":\"llama3\",\"type\":\"llama3\",\"factor\":8.0,\"low_freq_factor\":1.0,\"high_freq_factor\":4.0,"
                        + "\"original_max_position_embeddings\":8192}",
                RopeScalingOption.parse("llama3:factor=8,low_freq_factor=1,high_freq_factor=4,original_max_position_embeddings=8192")
                        .toJson().toString());
    }

    @Test void namesTheMissingKey() {
        assertEquals("--rope-scaling: linear requires 'factor' (required: factor)", error("linear"));
        assertEquals("--rope-scaling: llama3 requires 'high_freq_factor' (required: factor, low_freq_factor, high_freq_factor,"
                + " original_max_position_embeddings)", error("llama3:factor=8,low_freq_factor=1,original_max_position_embeddings=8192"));
        assertEquals("--rope-scaling: yarn requires 'factor' (required: factor)", error("yarn:beta_fast=32"));
    }

    @Test void rejectsUnknownTypesKeysAndBadValues() {
        assertEquals("--rope-scaling: unknown type 'ntk' (expected linear, dynamic, yarn or llama3)", error("ntk:factor=2"));
        assertEquals("--rope-scaling: linear does not take 'beta_fast' (it takes factor)", error("linear:factor=2,beta_fast=3"));
        assertEquals("--rope-scaling: factor=abc is not a number", error("linear:factor=abc"));
        assertEquals("--rope-scaling: 'factor 2' is not key=value", error("linear:factor 2"));
        assertEquals("--rope-scaling: 'factor' is given twice", error("linear:factor=2,factor=3"));
        assertEquals("--rope-scaling: factor=0.5 must be at least 1", error("linear:factor=0.5"));
        assertEquals("--rope-scaling: original_max_position_embeddings=40.5 must be a positive integer",
                error("dynamic:factor=2,original_max_position_embeddings=40.5"));
        assertEquals("--rope-scaling: llama3 low_freq_factor (4.0) must be below high_freq_factor (1.0)",
                error("llama3:factor=8,low_freq_factor=4,high_freq_factor=1,original_max_position_embeddings=8192"));
    }
}
