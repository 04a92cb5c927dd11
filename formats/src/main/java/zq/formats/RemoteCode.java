package zq.formats;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Whether a model folder needs {@code trust_remote_code} to load with stock transformers or vLLM,
 * and which files ask for it: every {@code auto_map} entry of the folder's config files (transformers
 * imports the named {@code module.Class} from the folder's Python files), and a config.json whose
 * architecture transformers does not ship (360Zhinao).
 */
public final class RemoteCode {
    /** The JSON files transformers reads {@code auto_map} from. */
    public static final List<String> CONFIG_FILES = List.of("config.json", "tokenizer_config.json",
            "processor_config.json", "preprocessor_config.json", "feature_extractor_config.json");

    /** One request for remote code: the file, the key that asks, the class it names, and whether its module is present. */
    public record Request(String file, String key, String reference, boolean modulePresent) {
        @Override public String toString() {
            return file + " " + key + " -> " + reference + (reference.contains(".")
                    ? " (" + module(reference) + (modulePresent ? "" : ", missing") + ")" : "");
        }
    }

    private RemoteCode() {}

    /** The remote-code requests of {@code modelDir}, in file order; empty when stock loaders need no remote code. */
    public static List<Request> requests(Path modelDir) {
        List<Request> out = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        for (String name : CONFIG_FILES) {
            Path file = modelDir.resolve(name);
            if (!Files.isRegularFile(file)) continue;
            JsonNode root;
            try {
                root = json.readTree(file.toFile());
            } catch (IOException e) {
                throw new CheckpointException(file + ": not valid JSON: " + e.getMessage(), e);
            }
            if (root == null) continue;
            for (Map.Entry<String, JsonNode> e : root.path("auto_map").properties()) {
                List<JsonNode> refs = new ArrayList<>();
                if (e.getValue().isArray()) e.getValue().forEach(refs::add);
                else refs.add(e.getValue());
                for (JsonNode ref : refs) {
                    if (!ref.isTextual()) continue; // AutoTokenizer's [slow, fast] pair has null for a missing one
                    String r = ref.asText();
                    // "repo--module.Class" names code in another Hub repository
                    String local = r.contains("--") ? r.substring(r.indexOf("--") + 2) : r;
                    out.add(new Request(name, "auto_map." + e.getKey(), r,
                            Files.isRegularFile(modelDir.resolve(module(local)))));
                }
            }
            if (name.equals("config.json") && root.path("model_type").asText("").equals(Architecture.ZHINAO.modelType())) {
                out.add(new Request(name, "model_type", Architecture.ZHINAO.modelType() + " (not in transformers)", true));
            }
        }
        return out;
    }

    private static String module(String reference) {
        int dot = reference.lastIndexOf('.');
        return (dot < 0 ? reference : reference.substring(0, dot)).replace('.', '/') + ".py";
    }
}
