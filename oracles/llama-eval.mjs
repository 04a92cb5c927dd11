// Runs the real llama.cpp (node-llama-cpp's prebuilt CPU build) for zq's GGUF tests.
// Usage: node llama-eval.mjs REQUEST.json, where REQUEST is a list of jobs:
//   {"model": "m.gguf", "logits": "out.bin", "windows": [[ids...], ...]}
//       writes float32 little-endian next-token logits, one row of n_vocab per position except the last
//       of each window, windows one after another (each window starts from an empty context)
//   {"model": "m.gguf", "tokenize": "out.json", "texts": ["...", ...]}
//       writes the ids llama.cpp's tokenizer gives each text (no BOS, special-token text not parsed)
// Prints one JSON line per job (n_vocab, rows written).
import fs from "node:fs";
import { getLlama } from "node-llama-cpp";

const jobs = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const llama = await getLlama({ gpu: false, build: "never", logLevel: "error" });
for (const job of jobs) {
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
