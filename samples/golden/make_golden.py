#!/usr/bin/env python3
"""Golden data for zq's tests, computed by the reference Python stacks (tiktoken, HF tokenizers,
transformers) on a machine that has them. zq's own code never runs here: it is the thing checked.

Usage (on a machine with torch, transformers, tokenizers, tiktoken):
  python3 samples/golden/make_golden.py --out OUTDIR [--sample samples/zhinao-tiny]
      [--qwen2 DIR] [--rope-models DIR] [--eval samples/data/eval.txt]

Writes into OUTDIR:
  hf-tokenizer.json      a byte-level BPE tokenizer.json trained here with HF tokenizers (Qwen2 split
                         regex, NFC, ByteLevel, ignore_merges); golden ids for it and for the sample's
                         360.tiktoken come from formats/src/test/resources/zq/formats/tokenizer/golden/make_golden.py
  transformers-golden.json  logits/perplexity from transformers for a Qwen2 conversion of the sample
                         and for small Llama models under each RoPE scaling type
"""
import argparse, base64, json, math, os, sys

PAT_STR = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
SPECIALS = ["<pad>", "<unk>", "<mask>", "<eod>", "<eop>", "[space2]", "[space3]", "[space4]", "[space8]",
            "<|im_start|>", "<|im_end|>"]



def zhinao_convert(text):
    text = text.replace("[br]", "\n").replace("<br>", "\n")
    for n, tok in ((8, "[space8]"), (4, "[space4]"), (3, "[space3]"), (2, "[space2]")):
        text = text.replace(" " * n, tok)
    return text


def zhinao_encoder(sample):
    import tiktoken
    ranks = {}
    with open(os.path.join(sample, "vocab", "360.tiktoken"), "rb") as f:
        for line in f:
            if line.strip():
                tok, rank = line.split()
                ranks[base64.b64decode(tok)] = int(rank)
    specials = {s: len(ranks) + i for i, s in enumerate(SPECIALS)}
    return tiktoken.Encoding(name="zhinao-sample", pat_str=PAT_STR, mergeable_ranks=ranks, special_tokens=specials)


def hf_tokenizer_golden(train_file, out):
    import tokenizers
    from tokenizers import Tokenizer, models, pre_tokenizers, decoders, normalizers, trainers, Regex
    tok = Tokenizer(models.BPE(ignore_merges=True))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(PAT_STR), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=1200, special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train([train_file], trainer)
    tok.save(os.path.join(out, "hf-tokenizer.json"))


def transformers_golden(qwen2_dir, rope_dir, eval_ids, out):
    import torch, transformers
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    res = {"source": "transformers " + transformers.__version__ + ", torch " + torch.__version__}
    if qwen2_dir and eval_ids:
        m = transformers.AutoModelForCausalLM.from_pretrained(qwen2_dir, dtype=torch.float64).to(dev).eval()
        seqlen, nll, count, windows = 256, 0.0, 0, 0
        with torch.no_grad():
            for s in range(0, len(eval_ids), seqlen):
                w = eval_ids[s:s + seqlen]
                if len(w) < 2:
                    continue
                x = torch.tensor([w], device=dev)
                logits = m(x).logits[0].double()
                lp = torch.log_softmax(logits[:-1], dim=-1)
                nll -= lp.gather(1, x[0, 1:, None]).sum().item()
                count += len(w) - 1
                windows += 1
            first = torch.tensor([eval_ids[:16]], device=dev)
            lg = m(first).logits[0].double().cpu()
        res["qwen2_sample"] = {"seqlen": seqlen, "windows": windows, "tokens": count, "ppl": math.exp(nll / count),
                               "first16_ids": eval_ids[:16],
                               "logits": {str(p): lg[p].tolist() for p in (0, 7, 15)}}
    if rope_dir:
        res["rope"] = {}
        ids = list(range(1, 65))
        for name in sorted(os.listdir(rope_dir)):
            d = os.path.join(rope_dir, name)
            m = transformers.AutoModelForCausalLM.from_pretrained(d, dtype=torch.float64).to(dev).eval()
            with torch.no_grad():
                lg = m(torch.tensor([ids], device=dev)).logits[0].double().cpu()
            res["rope"][name] = {"ids": ids, "logits": {str(p): lg[p].tolist() for p in (0, 31, 63)}}
    json.dump(res, open(os.path.join(out, "transformers-golden.json"), "w"), indent=1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--sample", default="samples/zhinao-tiny")
    ap.add_argument("--eval", default="samples/data/eval.txt")
    ap.add_argument("--train", default="samples/data/calib.txt")
    ap.add_argument("--qwen2")
    ap.add_argument("--rope-models")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    eval_ids = None
    try:
        enc = zhinao_encoder(a.sample)
        eval_ids = enc.encode(zhinao_convert(open(a.eval, encoding="utf-8").read()), allowed_special="all")
        print("eval tokens (tiktoken):", len(eval_ids))
    except Exception as e:
        print("tiktoken FAILED:", repr(e), file=sys.stderr)
    try:
        hf_tokenizer_golden(a.train, a.out)
        print("hf tokenizer trained: ok")
    except Exception as e:
        print("hf tokenizer FAILED:", repr(e), file=sys.stderr)
    try:
        transformers_golden(a.qwen2, a.rope_models, eval_ids, a.out)
        print("transformers golden: ok")
    except Exception as e:
        import traceback; traceback.print_exc()
        print("transformers golden FAILED:", repr(e), file=sys.stderr)


if __name__ == "__main__":
    main()
