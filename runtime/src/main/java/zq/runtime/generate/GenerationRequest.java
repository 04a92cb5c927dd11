package zq.runtime.generate;

import java.util.List;
import java.util.Set;

/**
 * What to generate after a prompt.
 *
 * @param stopIds     tokens that end generation (not included in the output)
 * @param stopStrings texts that end generation (the text ends before the first one found)
 */
public record GenerationRequest(int[] prompt, int maxNewTokens, SamplingOptions sampling, Set<Integer> stopIds,
                                List<String> stopStrings) {
    public GenerationRequest {
        if (maxNewTokens < 0) throw new IllegalArgumentException("--max-new-tokens must be ≥ 0, got " + maxNewTokens);
        prompt = prompt.clone();
        stopIds = Set.copyOf(stopIds);
        stopStrings = List.copyOf(stopStrings);
        for (String s : stopStrings) if (s.isEmpty()) throw new IllegalArgumentException("--stop strings must not be empty");
    }
}
