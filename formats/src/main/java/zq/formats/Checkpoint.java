package zq.formats;

import zq.formats.gptq.GptqPart;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * A model folder: {@code config.json} plus its safetensors weights, either one or more files or HF
 * shards listed by {@code model.safetensors.index.json}. Tensors are found by name across shards and
 * read lazily from the memory-mapped files.
 */
public final class Checkpoint implements AutoCloseable {
    private final Path dir;
    private final ModelConfig config;
    private final ModelLayout layout;
    private final List<SafetensorsFile> files;
    private final Map<String, SafetensorsFile> owner; // tensor name -> file, in file order

    private Checkpoint(Path dir, ModelConfig config, List<SafetensorsFile> files, Map<String, SafetensorsFile> owner) {
        this.dir = dir;
        this.config = config;
        checkLayerCount(dir, config, owner.keySet());
        this.layout = ModelLayout.of(config);
        this.files = files;
        this.owner = owner;
    }

    /** Opens a model folder and checks that its tensors are exactly what the config implies. */
    public static Checkpoint open(Path dir) {
        Checkpoint c = openUnverified(dir);
        try {
            c.verify();
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
        return c;
    }

    /** Opens a model folder, validating files and index but not the tensor set against the config. */
    public static Checkpoint openUnverified(Path dir) {
        if (!Files.isDirectory(dir)) throw new CheckpointException(dir + ": not a model folder");
        ModelConfig config = ModelConfig.read(dir.resolve("config.json"));
        Path index = dir.resolve(ShardedWriter.INDEX_FILE);
        List<Path> shardPaths = Files.isRegularFile(index) ? shardsFromIndex(dir, index) : listSafetensors(dir);
        Path single = dir.resolve(ShardedWriter.SINGLE_FILE);
        if (Files.isRegularFile(index) && Files.exists(single) && !shardPaths.contains(single.toAbsolutePath().normalize())) {
            // transformers loads model.safetensors first and never looks at the index: the two readers would disagree
            throw new CheckpointException(dir + ": has both " + ShardedWriter.SINGLE_FILE + " and " + ShardedWriter.INDEX_FILE
                    + " (which does not list it); transformers would load " + ShardedWriter.SINGLE_FILE + " alone. Remove one of them");
        }
        List<SafetensorsFile> files = new ArrayList<>();
        Map<String, SafetensorsFile> owner = new LinkedHashMap<>();
        try {
            for (Path p : shardPaths) {
                SafetensorsFile f = SafetensorsFile.open(p);
                files.add(f);
                for (TensorInfo t : f.tensors()) {
                    SafetensorsFile prev = owner.putIfAbsent(t.name(), f);
                    if (prev != null) {
                        throw new CheckpointException(dir + ": tensor '" + t.name() + "' appears in both "
                                + prev.path().getFileName() + " and " + p.getFileName());
                    }
                }
            }
            if (Files.isRegularFile(index)) checkIndexAgainstShards(index, owner);
        } catch (RuntimeException e) {
            files.forEach(SafetensorsFile::close);
            throw e;
        }
        return new Checkpoint(dir, config, List.copyOf(files), owner);
    }

    private static List<Path> listSafetensors(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> l = s.filter(SafetensorsFile::isSafetensors).sorted().toList();
            if (l.isEmpty()) throw new CheckpointException(dir + ": no .safetensors files and no " + ShardedWriter.INDEX_FILE);
            return l;
        } catch (IOException e) {
            throw new CheckpointException(dir + ": cannot list: " + e.getMessage(), e);
        }
    }

    private static Map<String, String> weightMap(Path index) {
        JsonNode root = JsonFiles.read(index);
        JsonNode wm = root == null ? null : root.get("weight_map");
        if (wm == null || !wm.isObject()) throw new CheckpointException(index + ": missing weight_map object");
        Map<String, String> m = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = wm.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) throw new CheckpointException(index + ": weight_map entry '" + e.getKey() + "' is not a file name");
            m.put(e.getKey(), e.getValue().asText());
        }
        return m;
    }

    private static List<Path> shardsFromIndex(Path dir, Path index) {
        Path root = dir.toAbsolutePath().normalize();
        Set<Path> shards = new TreeSet<>();
        for (Map.Entry<String, String> e : weightMap(index).entrySet()) {
            String name = e.getValue();
            Path p = shardPath(root, name);
            if (p == null) {
                throw new CheckpointException(index + ": shard name '" + name + "' for tensor '" + e.getKey()
                        + "' is not a file name inside the model folder");
            }
            if (shards.add(p) && !Files.isRegularFile(p)) {
                throw new CheckpointException(index + ": shard '" + name + "' (for tensor '" + e.getKey() + "') is missing");
            }
        }
        if (shards.isEmpty()) throw new CheckpointException(index + ": weight_map is empty");
        return List.copyOf(shards);
    }

    /** The shard file {@code name} names directly inside {@code root}, or null if it points anywhere else. */
    private static Path shardPath(Path root, String name) {
        try {
            if (name.isEmpty() || Path.of(name).isAbsolute()) return null;
            Path p = root.resolve(name).normalize();
            return root.equals(p.getParent()) ? p : null;
        } catch (InvalidPathException e) {
            return null;
        }
    }

    private static void checkIndexAgainstShards(Path index, Map<String, SafetensorsFile> owner) {
        Map<String, String> weightMap = weightMap(index);
        for (Map.Entry<String, String> e : weightMap.entrySet()) {
            SafetensorsFile f = owner.get(e.getKey());
            if (f == null) {
                throw new CheckpointException(index + ": tensor '" + e.getKey() + "' is listed in shard '" + e.getValue()
                        + "' but that shard does not contain it");
            }
            if (!f.path().getFileName().toString().equals(Path.of(e.getValue()).getFileName().toString())) {
                throw new CheckpointException(index + ": tensor '" + e.getKey() + "' is listed in '" + e.getValue()
                        + "' but found in '" + f.path().getFileName() + "'");
            }
        }
        for (Map.Entry<String, SafetensorsFile> e : owner.entrySet()) {
            if (!weightMap.containsKey(e.getKey())) {
                throw new CheckpointException(index + ": tensor '" + e.getKey() + "' in shard '" + e.getValue().path().getFileName()
                        + "' is not listed in the weight_map");
            }
        }
    }

    /**
     * Checks that every tensor the config implies is present with the right shape and a usable dtype
     * (floating point, or I32 for GPTQ's packed qweight/qzeros/g_idx); extra tensors that loaders
     * ignore (rotary caches) are allowed, anything else unexpected is reported. The message names the
     * first few problems and counts the rest.
     */
    public void verify() {
        List<String> problems = new ArrayList<>();
        Map<String, long[]> expected = layout.expectedTensors();
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            String name = e.getKey();
            SafetensorsFile f = owner.get(name);
            if (f == null) {
                problems.add("tensor '" + name + "' is missing (expected shape " + Arrays.toString(e.getValue()) + ")");
                continue;
            }
            TensorInfo t = f.info(name);
            if (!t.hasShape(e.getValue())) {
                problems.add("tensor '" + name + "' has shape " + t.shapeString() + ", config implies "
                        + Arrays.toString(e.getValue()));
            }
            GptqPart part = GptqPart.of(name);
            boolean packed = part != null && part.packed();
            if (packed ? t.dtype() != DType.I32 : !t.dtype().isFloatingPoint()) {
                problems.add("tensor '" + name + "' has dtype " + t.dtype() + ", expected " + (packed ? "I32" : "a floating-point dtype"));
            }
        }
        for (String name : owner.keySet()) {
            if (!expected.containsKey(name) && !isRotaryCache(name)) problems.add("unexpected tensor '" + name + "'");
        }
        if (!problems.isEmpty()) {
            int shown = Math.min(problems.size(), MAX_PROBLEMS_SHOWN);
            String msg = dir + ": " + String.join("; ", problems.subList(0, shown));
            if (problems.size() > shown) msg += " (and " + (problems.size() - shown) + " more problems)";
            throw new CheckpointException(msg);
        }
    }

    private static final int MAX_PROBLEMS_SHOWN = 3;

    /**
     * A config that names more layers than the weights hold is refused before the layout is built: the layout lists
     * every tensor of every layer, and a hand-edited num_hidden_layers of 2^31 - 1 would take minutes and the heap.
     */
    private static void checkLayerCount(Path dir, ModelConfig config, Collection<String> names) {
        int layers = 0;
        for (String n : names) {
            if (!n.startsWith(LAYER_PREFIX)) continue;
            int end = n.indexOf('.', LAYER_PREFIX.length());
            try {
                layers = Math.max(layers, Integer.parseInt(n.substring(LAYER_PREFIX.length(), end < 0 ? n.length() : end)) + 1);
            } catch (NumberFormatException e) {
                // not a layer index; verify() reports the tensor as unexpected
            }
        }
        if (config.numLayers() > layers) {
            throw new CheckpointException(dir + ": config.json has num_hidden_layers " + config.numLayers() + ", but the weights "
                    + (layers == 0 ? "hold no layer tensors" : "stop at layer " + (layers - 1)));
        }
    }

    private static final String LAYER_PREFIX = "model.layers.";

    /** Buffers some exporters save but loaders skip: not parameters. */
    public static boolean isRotaryCache(String name) {
        return name.endsWith("rotary_emb.inv_freq") || name.endsWith("cos_cached") || name.endsWith("sin_cached");
    }

    public Path dir() { return dir; }
    public ModelConfig config() { return config; }
    public ModelLayout layout() { return layout; }
    public List<SafetensorsFile> files() { return files; }

    public Collection<String> tensorNames() { return owner.keySet(); }

    public boolean has(String name) { return owner.containsKey(name); }

    public TensorInfo info(String name) {
        SafetensorsFile f = owner.get(name);
        if (f == null) throw new CheckpointException(dir + ": tensor '" + name + "' is missing");
        return f.info(name);
    }

    /** The file holding {@code name}. */
    public SafetensorsFile fileOf(String name) {
        SafetensorsFile f = owner.get(name);
        if (f == null) throw new CheckpointException(dir + ": tensor '" + name + "' is missing");
        return f;
    }

    /** A whole tensor as fp32, checked for NaN and infinity. */
    public float[] floats(String name) {
        SafetensorsFile f = fileOf(name);
        TensorInfo t = f.info(name);
        float[] v = f.readFloats(t);
        int i = FiniteValues.firstNonFinite(v);
        if (i >= 0) {
            throw new CheckpointException(f.path() + ": tensor '" + name + "' has a non-finite value (" + v[i] + ") at flat index " + i);
        }
        return v;
    }

    /** Rows {@code [row, row+count)} of a 2-D floating-point tensor as fp32. */
    public float[] rows(String name, long row, int count) {
        SafetensorsFile f = fileOf(name);
        TensorInfo t = f.info(name);
        int cols = (int) t.shape()[1];
        float[] out = new float[Math.multiplyExact(count, cols)];
        f.readFloats(t, row * cols, out, 0, out.length);
        return out;
    }

    public int[] ints(String name) { return fileOf(name).readInts(info(name)); }

    @Override public void close() { files.forEach(SafetensorsFile::close); }
}
