package zq.gptq.export;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import zq.gptq.GptqReport;
import zq.gptq.pipeline.Calibration;
import zq.gptq.pipeline.ModuleReport;
import zq.gptq.pipeline.Phase;
import zq.gptq.pipeline.PipelineOptions;
import zq.gptq.pipeline.QuantizeMethod;

/**
 * What a finished {@code zq quantize} did: the summary printed on stdout and the full {@code --report} JSON.
 *
 * @param output         the committed output folder
 * @param calibration    null for round-to-nearest
 * @param layers         decoder layers quantised
 * @param modules        one report per Linear, in quantisation order
 * @param layerSeconds   wall time per decoder layer
 * @param phaseSeconds   wall time per phase
 * @param totalSeconds   the whole run, opening the input to committing the output
 * @param peakHeapBytes  {@link zq.gptq.pipeline.PeakMemory#peakHeapBytes()} at the end
 * @param peakRssBytes   {@link zq.gptq.pipeline.PeakMemory#peakRssBytes()} at the end (-1 if unknown)
 * @param weightFiles    safetensors files (and index) written
 * @param companionFiles files copied from the input (tokenizer, generation config, ...)
 * @param warnings       loader-compatibility notes
 * @param forwardsPerLayer forward work per layer in units of one forward over the calibration tokens (0 for round-to-nearest)
 */
public record QuantizeResult(Path output, PipelineOptions options, Calibration calibration, int layers,
                             List<ModuleReport> modules, List<Double> layerSeconds, Map<Phase, Double> phaseSeconds,
                             double totalSeconds, long peakHeapBytes, long peakRssBytes, List<String> weightFiles,
                             List<String> companionFiles, List<String> warnings, double forwardsPerLayer) {

    public QuantizeResult {
        modules = List.copyOf(modules);
        layerSeconds = List.copyOf(layerSeconds);
        phaseSeconds = Map.copyOf(phaseSeconds);
        weightFiles = List.copyOf(weightFiles);
        companionFiles = List.copyOf(companionFiles);
        warnings = List.copyOf(warnings);
    }

    /** Sum of the GPTQ losses of all Linears (NaN for round-to-nearest). */
    public double totalLoss() {
        double s = 0;
        for (ModuleReport m : modules) s += m.loss();
        return s;
    }

    /** The Linear with the largest GPTQ loss, or null for round-to-nearest. */
    public ModuleReport worstModule() {
        ModuleReport worst = null;
        for (ModuleReport m : modules) if (m.gptq() != null && (worst == null || m.loss() > worst.loss())) worst = m;
        return worst;
    }

    /** Linears whose configured damping was not enough for the Cholesky factorisation and had to be raised. */
    public long dampRaisedCount() {
        return modules.stream().filter(m -> m.gptq() != null && m.gptq().dampRaised()).count();
    }

    /** The {@code --json} summary: everything but the per-module list. */
    public ObjectNode summaryJson() {
        ObjectNode j = JsonNodeFactory.instance.objectNode();
        j.put("output", output.toString());
        j.put("method", options.method().methodName());
        ObjectNode settings = QuantizeConfigJson.of(options);
        for (String key : QuantizeConfigJson.SETTINGS) j.set(key, settings.get(key));
        j.put("mse", options.gptq().mse());
        j.put("hessian_backend", options.hessian().name().toLowerCase(Locale.ROOT));
        if (calibration == null) {
            j.putNull("calibration");
        } else {
            ObjectNode cal = j.putObject("calibration");
            cal.put("source", calibration.source());
            cal.put("nsamples", calibration.nsamples());
            cal.put("seqlen", calibration.seqlen());
            cal.put("seed", calibration.seed());
            cal.put("tokens", calibration.tokens());
        }
        j.put("layers", layers);
        j.put("modules", modules.size());
        if (options.method() == QuantizeMethod.GPTQ) {
            j.put("loss_total", totalLoss());
            ModuleReport worst = worstModule();
            j.put("loss_max", worst.loss());
            j.put("loss_max_module", worst.name());
            j.put("damp_raised_modules", dampRaisedCount());
        }
        j.put("forwards_per_layer", forwardsPerLayer);
        j.put("seconds_total", totalSeconds);
        ObjectNode phases = j.putObject("seconds_by_phase");
        for (Phase p : Phase.values()) phases.put(p.key(), phaseSeconds.getOrDefault(p, 0.0));
        ArrayNode perLayer = j.putArray("seconds_per_layer");
        layerSeconds.forEach(perLayer::add);
        j.put("peak_heap_bytes", peakHeapBytes);
        j.put("peak_rss_bytes", peakRssBytes);
        ArrayNode files = j.putArray("weight_files");
        weightFiles.forEach(files::add);
        ArrayNode copied = j.putArray("copied_files");
        companionFiles.forEach(copied::add);
        ArrayNode warn = j.putArray("warnings");
        warnings.forEach(warn::add);
        return j;
    }

    /** The {@code --report} JSON: the summary plus one entry per Linear (loss, damping, time). */
    public ObjectNode reportJson() {
        ObjectNode j = summaryJson();
        ArrayNode list = j.putArray("module_reports");
        for (ModuleReport m : modules) {
            ObjectNode o = list.addObject();
            o.put("name", m.name());
            o.put("layer", m.layer());
            o.put("input", m.group().name().toLowerCase(Locale.ROOT));
            o.put("out_features", m.outFeatures());
            o.put("in_features", m.inFeatures());
            o.put("seconds", m.solveSeconds());
            GptqReport g = m.gptq();
            if (g == null) {
                o.putNull("loss");
                continue;
            }
            o.put("loss", g.loss());
            o.put("hessian_tokens", m.hessianTokens());
            o.put("damp_percent", g.dampPercentRequested());
            o.put("damp_percent_used", g.dampPercentUsed());
            o.put("damp_absolute", g.dampAbsolute());
            o.put("damp_attempts", g.dampAttempts());
            o.put("dead_columns", g.deadColumns());
            o.put("factor_seconds", g.factorSeconds());
        }
        return j;
    }

    /** The human-readable summary. */
    public String toText() {
        ObjectNode settings = QuantizeConfigJson.of(options);
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "wrote %s%n", output));
        b.append(String.format(Locale.ROOT, "  GPTQ Int4 (%s): %s%n", options.method().methodName(), QuantizeConfigJson.SETTINGS.stream()
                .map(key -> key + " " + settings.get(key).asText()).collect(java.util.stream.Collectors.joining(", "))));
        if (calibration != null) {
            b.append(String.format(Locale.ROOT, "  calibration: %d windows x %d tokens from %s (seed %d)%n",
                    calibration.nsamples(), calibration.seqlen(), calibration.source(), calibration.seed()));
        }
        b.append(String.format(Locale.ROOT, "  %d layers, %d Linears quantised%n", layers, modules.size()));
        if (options.method() == QuantizeMethod.GPTQ) {
            ModuleReport worst = worstModule();
            b.append(String.format(Locale.ROOT, "  GPTQ loss: total %.6g, largest %.6g (%s); damping raised for %d Linears%n",
                    totalLoss(), worst.loss(), worst.name(), dampRaisedCount()));
        }
        b.append(String.format(Locale.ROOT, "  time %.1f s:", totalSeconds));
        for (Phase p : Phase.values()) b.append(String.format(Locale.ROOT, " %s %.1f s", p.key(), phaseSeconds.getOrDefault(p, 0.0)));
        if (forwardsPerLayer > 0) b.append(String.format(Locale.ROOT, "; %.2f forwards per layer", forwardsPerLayer));
        b.append(String.format(Locale.ROOT, "%n  peak heap %.0f MB, peak RSS %s%n", peakHeapBytes / 1e6,
                peakRssBytes < 0 ? "unknown" : String.format(Locale.ROOT, "%.0f MB", peakRssBytes / 1e6)));
        b.append("  files: ").append(String.join(", ", weightFiles)).append(", config.json, quantize_config.json");
        for (String f : companionFiles) b.append(", ").append(f);
        b.append('\n');
        for (String w : warnings) b.append("  warning: ").append(w).append('\n');
        return b.toString();
    }
}
