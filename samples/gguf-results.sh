#!/usr/bin/env bash
# Measures the README's GGUF table on the bundled sample: F32 (the reference), F16, Q8_0 and llama.cpp-style RTN Q4_0
# exports of the dense model, and GPTQ g32 (sym -> Q4_0, asym -> Q4_1) exports; each scored by the real llama.cpp
# (node-llama-cpp, oracles/llama-eval.mjs) on the same eval windows as `zq ppl`, beside zq's runtime ppl of the
# checkpoint it was made from. Prints a Markdown table. Needs oracles/node_modules (./test installs it).
# Usage: samples/gguf-results.sh [WORK_DIR]      (a few minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(realpath -m "${1:-$(mktemp -d)}")"
mkdir -p "$work"
sample=samples/zhinao-tiny
calib=samples/data/calib-conversations.json
eval_args=(--text samples/data/eval.txt --seqlen 256)

for t in f32 f16 q8_0 q4_0; do
  rm -f "$work/$t.gguf"
  ./zq convert "$sample" -o "$work/$t.gguf" --to gguf --dtype "$t" > "$work/$t.log" 2>&1
done
for grid in sym no-sym; do
  rm -rf "${work:?}/gptq-$grid" "$work/gptq-$grid.gguf"
  ./zq quantize "$sample" -o "$work/gptq-$grid" --group-size 32 --"$grid" --calib "$calib" --nsamples 128 --seqlen 256 > "$work/gptq-$grid.log" 2>&1
  ./zq convert "$work/gptq-$grid" -o "$work/gptq-$grid.gguf" --to gguf >> "$work/gptq-$grid.log" 2>&1
  ./zq ppl "$work/gptq-$grid" "${eval_args[@]}" --json > "$work/gptq-$grid.ppl.json"
done
./zq ppl "$sample" "${eval_args[@]}" --json > "$work/dense.ppl.json"
./zq tokenize "$sample" --file samples/data/eval.txt --json > "$work/eval.ids.json"
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
ids = json.load(open(f"{work}/eval.ids.json"))["ids"]
windows = [ids[i:i + 256] for i in range(0, len(ids), 256)]
windows = [w for w in windows if len(w) >= 2]
models = [f"{work}/{n}.gguf" for n in ["f32", "f16", "q8_0", "q4_0", "gptq-sym", "gptq-no-sym"]]
json.dump([{"score": models, "windows": windows}], open(f"{work}/score.json", "w"))
PY
(cd oracles && node llama-eval.mjs "$work/score.json") > "$work/score.out"
python3 - "$work" <<'PY'
import json, os, sys
work = sys.argv[1]
scores = {os.path.basename(j["model"])[:-5]: j for j in map(json.loads, open(f"{work}/score.out"))}
dense = json.load(open(f"{work}/dense.ppl.json"))
rows = [("F32", "f32", "dense"), ("F16", "f16", "dense"), ("Q8_0", "q8_0", "dense"), ("RTN Q4_0 (llama.cpp rule)", "q4_0", "dense"),
        ("GPTQ g32 sym -> Q4_0", "gptq-sym", "gptq-sym"), ("GPTQ g32 asym -> Q4_1", "gptq-no-sym", "gptq-no-sym")]
print(f"{scores['f32']['predicted']} predicted tokens; KLD and top-1 against llama.cpp's F32 export\n")
print("| GGUF | file size | llama.cpp ppl | zq ppl (source checkpoint) | KLD vs F32 | top-1 vs F32 |")
print("|---|---|---|---|---|---|")
for label, name, src in rows:
    s = scores[name]
    zq = dense if src == "dense" else json.load(open(f"{work}/{src}.ppl.json"))
    size = os.path.getsize(f"{work}/{name}.gguf") / 1e6
    print(f"| {label} | {size:.2f} MB | {s['ppl']:.4f} | {zq['ppl']:.4f} | {s['kld']:.6f} | {100 * s['top1']:.2f} % |")
PY
