package zq.gptq;

/**
 * What one GPTQ solve did besides producing codes.
 *
 * @param loss                 AutoGPTQ's logged loss: the sum over all weights of (w - q)² / d² / 2,
 *                             d being the diagonal of the upper Cholesky factor of H⁻¹ at that column
 * @param dampPercentRequested the configured damp_percent
 * @param dampPercentUsed      the damp fraction that finally let the Cholesky chain succeed
 * @param dampAbsolute         the value added to diag(H): dampPercentUsed × mean(diag H)
 * @param dampAttempts         factorisations tried (1 when the configured damping sufficed)
 * @param deadColumns          inputs with H[i][i] == 0 (their weights were zeroed, as in the reference)
 * @param factorSeconds        wall time of the Cholesky chain, all attempts
 * @param totalSeconds         wall time of the whole solve
 */
public record GptqReport(double loss, double dampPercentRequested, double dampPercentUsed, float dampAbsolute,
                         int dampAttempts, int deadColumns, double factorSeconds, double totalSeconds) {

    /** True when the configured damping was not enough and had to be raised. */
    public boolean dampRaised() {
        return dampAttempts > 1;
    }
}
