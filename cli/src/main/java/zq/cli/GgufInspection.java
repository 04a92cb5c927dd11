package zq.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import zq.formats.gguf.GgmlType;
import zq.formats.gguf.GgufFile;
import zq.formats.gguf.GgufTensorInfo;
import zq.formats.gguf.GgufValue;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** {@code zq inspect FILE.gguf}: metadata, tensor types and parameter count of a GGUF file, after the reader's checks. */
final class GgufInspection {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private GgufInspection() {}

    static void print(Path file, boolean json, boolean listTensors, PrintWriter out) throws Exception {
        try (GgufFile g = GgufFile.open(file)) {
            List<GgufTensorInfo> tensors = g.tensors();
            long params = 0, bytes = 0;
            Map<GgmlType, long[]> byType = new EnumMap<>(GgmlType.class); // tensors, elements, bytes
            for (GgufTensorInfo t : tensors) {
                params += t.elements();
                bytes += t.byteSize();
                long[] s = byType.computeIfAbsent(t.type(), k -> new long[3]);
                s[0]++;
                s[1] += t.elements();
                s[2] += t.byteSize();
            }
            if (json) {
                ObjectNode r = JSON.createObjectNode();
                r.put("file", file.toString());
                r.put("gguf_version", g.version());
                r.put("alignment", g.alignment());
                ObjectNode md = r.putObject("metadata");
                for (Map.Entry<String, GgufValue> e : g.metadata().entrySet()) {
                    GgufValue v = e.getValue();
                    if (v.value() instanceof List<?> l) md.put(e.getKey(), v.elementType().name().toLowerCase(Locale.ROOT) + "[" + l.size() + "]");
                    else md.putPOJO(e.getKey(), v.value());
                }
                r.put("tensor_count", tensors.size());
                r.put("parameters", params);
                r.put("tensor_bytes", bytes);
                ObjectNode types = r.putObject("types");
                byType.forEach((t, s) -> types.putObject(t.name()).put("tensors", s[0]).put("elements", s[1]).put("bytes", s[2]));
                if (listTensors) {
                    ArrayNode list = r.putArray("tensors");
                    for (GgufTensorInfo t : tensors) {
                        ObjectNode o = list.addObject().put("name", t.name()).put("type", t.type().name());
                        ArrayNode d = o.putArray("dims");
                        for (long x : t.dims()) d.add(x);
                        o.put("offset", t.offset()).put("bytes", t.byteSize());
                    }
                }
                out.println(JSON.writeValueAsString(r));
                return;
            }
            out.printf(Locale.ROOT, "%-14s %s%n", "File", file);
            out.printf(Locale.ROOT, "%-14s %d, alignment %d%n", "GGUF version", g.version(), g.alignment());
            out.println("Metadata");
            for (Map.Entry<String, GgufValue> e : g.metadata().entrySet()) {
                out.printf(Locale.ROOT, "  %-44s %s%n", e.getKey(), e.getValue().describe());
            }
            boolean first = true;
            for (Map.Entry<GgmlType, long[]> e : byType.entrySet()) {
                long[] s = e.getValue();
                out.printf(Locale.ROOT, "%-14s %-5s %,d tensors, %,d elements, %,d bytes%n", first ? "Types" : "", e.getKey(), s[0], s[1], s[2]);
                first = false;
            }
            out.printf(Locale.ROOT, "%-14s %,d%n", "Tensors", tensors.size());
            out.printf(Locale.ROOT, "%-14s %,d%n", "Parameters", params);
            out.printf(Locale.ROOT, "%-14s %,d%n", "Tensor bytes", bytes);
            if (listTensors) {
                out.println();
                int width = tensors.stream().mapToInt(t -> t.name().length()).max().orElse(0);
                for (GgufTensorInfo t : tensors) {
                    out.printf(Locale.ROOT, "%-" + width + "s  %-5s %-16s offset %d%n", t.name(), t.type(), t.dimsString(), t.offset());
                }
            }
        }
    }
}
