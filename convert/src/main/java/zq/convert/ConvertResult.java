package zq.convert;

import java.nio.file.Path;

/**
 * What a conversion wrote: the committed folder, its tensor count, weight files and tensor bytes, and
 * a line on the tokenizer files it rewrote (null when it only copied them).
 */
public record ConvertResult(Path output, int tensors, int weightFiles, long tensorBytes, String tokenizer) {}
