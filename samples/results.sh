#!/usr/bin/env bash
# Measures the README's results table on the bundled sample: dense ppl, then RTN and GPTQ Int4 at g128 and g32,
# with and without act-order: ppl, ratio, KLD, top-1, quantize time and peak memory. Prints a Markdown table.
# Usage: samples/results.sh [WORK_DIR]      (about 10 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
sample=samples/zhinao-tiny
calib=samples/data/calib-conversations.json
eval_args=(--text samples/data/eval.txt --seqlen 256)

./zq ppl "$sample" "${eval_args[@]}" --json > "$work/dense.json"
rows=()
for cfg in "rtn 128 no" "rtn 32 no" "gptq 128 no" "gptq 32 no" "gptq 128 yes" "gptq 32 yes"; do
  read -r method group act <<<"$cfg"
  name="$method-g$group$([ "$act" = yes ] && echo -act || true)"
  rm -rf "${work:?}/$name"
  args=(quantize "$sample" -o "$work/$name" --method "$method" --group-size "$group" --report "$work/$name.report.json" --json)
  [ "$act" = yes ] && args+=(--desc-act) || args+=(--no-desc-act)
  [ "$method" = gptq ] && args+=(--calib "$calib" --nsamples 36 --seqlen 256)
  ./zq "${args[@]}" > "$work/$name.quantize.json" 2> "$work/$name.log"
  ./zq validate --baseline "$sample" --candidate "$work/$name" "${eval_args[@]}" --json > "$work/$name.validate.json"
  rows+=("$name")
done
python3 - "$work" "${rows[@]}" <<'PY'
import json, sys
work, names = sys.argv[1], sys.argv[2:]
dense = json.load(open(f"{work}/dense.json"))
print(f"Dense BF16: ppl {dense['ppl']:.4f} ({dense['tokens']} predicted tokens, {dense['windows']} windows of {dense['seqlen']})\n")
print("| method | group | desc_act | ppl | ratio | KLD mean | top-1 | quantize time | peak RSS |")
print("|---|---|---|---|---|---|---|---|---|")
for n in names:
    v = json.load(open(f"{work}/{n}.validate.json"))
    r = json.load(open(f"{work}/{n}.report.json"))
    method, rest = n.split("-g")
    group = rest.split("-")[0]
    act = "yes" if n.endswith("-act") else "no"
    total, rss = r["seconds_total"], r["peak_rss_bytes"] / 1e6
    print(f"| {method.upper()} | {group} | {act} | {v['ppl_candidate']:.4f} | {v['ppl_ratio']:.5f} | {v['kld_mean']:.6f} | "
          f"{100 * v['top1_agreement']:.2f} % | {total:.1f} s | {rss:.0f} MB |")
PY
