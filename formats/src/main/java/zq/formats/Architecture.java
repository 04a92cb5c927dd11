package zq.formats;

import java.util.Locale;

/** The decoder families zq understands; each maps its tensor names to one {@link ModelLayout}. */
public enum Architecture {
    LLAMA("llama", "LlamaForCausalLM"),
    QWEN2("qwen2", "Qwen2ForCausalLM"),
    MISTRAL("mistral", "MistralForCausalLM"),
    /** 360Zhinao: Llama-shaped with a fused, per-KV-group interleaved qkv_proj that carries a bias. */
    ZHINAO("zhinao", "ZhinaoForCausalLM");

    private final String modelType;
    private final String hfClass;

    Architecture(String modelType, String hfClass) {
        this.modelType = modelType;
        this.hfClass = hfClass;
    }

    public String modelType() { return modelType; }

    /** The transformers class named in config.json's "architectures". */
    public String hfClass() { return hfClass; }

    public static Architecture fromModelType(String type) {
        if (type == null) return null;
        String t = type.toLowerCase(Locale.ROOT);
        for (Architecture a : values()) if (a.modelType.equals(t)) return a;
        return null;
    }

    public static Architecture fromHfClass(String cls) {
        for (Architecture a : values()) if (a.hfClass.equals(cls)) return a;
        return null;
    }
}
