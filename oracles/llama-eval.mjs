// Runs the real llama.cpp (node-llama-cpp's prebuilt CPU build) for zq's GGUF tests.
// Usage: node llama-eval.mjs REQUEST.json, where REQUEST is a list of jobs:
//   {"model": "m.gguf", "logits": "out.bin", "windows": [[ids...], ...]}
//       writes float32 little-endian next-token logits, one row of n_vocab per position except the last
//       of each window, windows one after another (each window starts from an empty context)
//   {"model": "m.gguf", "tokenize": "out.json", "texts": ["...", ...]}
//       writes the ids llama.cpp's tokenizer gives each text (no BOS, special-token text not parsed)
//   {"score": ["ref.gguf", "a.gguf", ...], "windows": [[ids...], ...]}
//       prints each model's perplexity over the windows and its mean KL divergence from the first model,
//       all in float64 from llama.cpp's logits, one window at a time (for samples/gguf-results.sh)
// Prints one JSON line per job (n_vocab, rows written).
import fs from "node:fs";
import { getLlama } from "node-llama-cpp";

const jobs = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const llama = await getLlama({ gpu: false, build: "never", logLevel: "error" });
async function windowLogits(sequence, w) {
    await sequence.clearHistory();
    const input = w.map((t, i) => i < w.length - 1 ? [t, { generateNext: { logits: true } }] : t);
    return (await sequence.controlledEvaluate(input)).slice(0, w.length - 1).map(r => r.next.logits);
}

function logSoftmax(logits, vocab) {
    const x = new Float64Array(vocab);
    for (const [tok, v] of logits) x[tok] = v;
    let max = -Infinity;
    for (let j = 0; j < vocab; j++) max = Math.max(max, x[j]);
    let sum = 0;
    for (let j = 0; j < vocab; j++) sum += Math.exp(x[j] - max);
    const lse = max + Math.log(sum);
    for (let j = 0; j < vocab; j++) x[j] -= lse;
    return x;
}

async function score(job) {
    const longest = Math.max(...job.windows.map(w => w.length));
    const runs = [];
    for (const path of job.score) {
        const model = await llama.loadModel({ modelPath: path });
        const context = await model.createContext({ contextSize: longest, batchSize: longest, sequences: 1, threads: job.threads ?? 2 });
        runs.push({ path, model, context, sequence: context.getSequence(), nll: 0, kld: 0, same: 0 });
    }
    const vocab = runs[0].model.fileInfo.metadata.tokenizer.ggml.tokens.length;
    let rows = 0;
    for (const w of job.windows) {
        const ref = (await windowLogits(runs[0].sequence, w)).map(l => logSoftmax(l, vocab));
        for (const run of runs) {
            const lp = run === runs[0] ? ref : (await windowLogits(run.sequence, w)).map(l => logSoftmax(l, vocab));
            for (let i = 0; i < lp.length; i++) {
                run.nll -= lp[i][w[i + 1]];
                let k = 0, top = 0, refTop = 0;
                for (let j = 0; j < vocab; j++) {
                    k += Math.exp(ref[i][j]) * (ref[i][j] - lp[i][j]);
                    if (lp[i][j] > lp[i][top]) top = j;
                    if (ref[i][j] > ref[i][refTop]) refTop = j;
                }
                run.kld += k;
                if (top === refTop) run.same++;
            }
        }
        rows += w.length - 1;
    }
    for (const run of runs) {
        console.log(JSON.stringify({ model: run.path, predicted: rows, ppl: Math.exp(run.nll / rows), kld: run.kld / rows, top1: run.same / rows }));
        await run.context.dispose();
        await run.model.dispose();
    }
}

for (const job of jobs) {
    if (job.score) {
        await score(job);
        continue;
    }
    const model = await llama.loadModel({ modelPath: job.model });
    if (job.tokenize) {
        const ids = job.texts.map(t => Array.from(model.tokenize(t, false)));
        fs.writeFileSync(job.tokenize, JSON.stringify(ids));
        console.log(JSON.stringify({ model: job.model, texts: ids.length }));
    } else {
        const longest = Math.max(...job.windows.map(w => w.length));
        const context = await model.createContext({ contextSize: longest, batchSize: longest, sequences: 1, threads: job.threads ?? 2 });
        const sequence = context.getSequence();
        const vocab = model.fileInfo.metadata.tokenizer.ggml.tokens.length;
        const fd = fs.openSync(job.logits, "w");
        let rows = 0;
        for (const w of job.windows) {
            await sequence.clearHistory();
            const input = w.map((t, i) => i < w.length - 1 ? [t, { generateNext: { logits: true } }] : t);
            const res = await sequence.controlledEvaluate(input);
            const buf = new Float32Array((w.length - 1) * vocab);
            for (let i = 0; i < w.length - 1; i++) {
                const logits = res[i].next.logits;
                if (logits.size !== vocab) throw new Error(`position ${i}: ${logits.size} logits, vocabulary ${vocab}`);
                for (const [tok, v] of logits) buf[i * vocab + tok] = v;
            }
            fs.writeSync(fd, Buffer.from(buf.buffer));
            rows += w.length - 1;
        }
        fs.closeSync(fd);
        await context.dispose();
        console.log(JSON.stringify({ model: job.model, vocab, rows }));
    }
    await model.dispose();
}
