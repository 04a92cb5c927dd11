#!/usr/bin/env python3
"""Writes <name>.ids.jsonl for GoldenIdsTest from the reference Python tokenizers.

  zhinao:  python make_golden.py zhinao MODEL_DIR NAME   (MODEL_DIR has vocab/360.tiktoken and tokenization_zhinao.py)
  hf:      python make_golden.py hf TOKENIZER_JSON NAME

zhinao uses the model's own tokenization_zhinao.py through transformers (trust_remote_code) when
transformers is installed, else SPTokenizer's steps re-stated below on top of tiktoken.
"""
import base64, hashlib, json, os, sys

HERE = os.path.dirname(os.path.abspath(__file__))
PAT_STR = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
SPECIALS = ["<pad>", "<unk>", "<mask>", "<eod>", "<eop>", "[space2]", "[space3]", "[space4]", "[space8]",
            "<|im_start|>", "<|im_end|>"]


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def zhinao_encoder(model_dir):
    try:
        import transformers
        tok = transformers.AutoTokenizer.from_pretrained(model_dir, trust_remote_code=True, use_fast=False)
        return (lambda text: tok.encode(text)), (lambda ids: tok.decode(ids)), \
            "tokenization_zhinao.py via transformers " + transformers.__version__
    except Exception:  # no transformers, or a folder without tokenization_zhinao.py
        import tiktoken
        with open(os.path.join(model_dir, "vocab", "360.tiktoken"), "rb") as f:
            ranks = {base64.b64decode(t): int(r) for t, r in (line.split() for line in f.read().splitlines() if line)}
        enc = tiktoken.Encoding("zhinao", pat_str=PAT_STR, mergeable_ranks=ranks,
                                special_tokens={s: len(ranks) + i for i, s in enumerate(SPECIALS)})
        spaces = {"[space2]": "  ", "[space3]": "   ", "[space4]": "    ", "[space8]": "        "}

        def convert(text):
            for k in ["[br]", "<br>"]:
                text = text.replace(k, "\n")
            for s in sorted(spaces.values(), key=len, reverse=True):
                text = text.replace(s, {v: k for k, v in spaces.items()}[s])
            return text

        def deconvert(text):
            for t, s in spaces.items():
                text = text.replace(t, s)
            return text

        return (lambda text: enc.encode(convert(text), allowed_special="all")), \
            (lambda ids: deconvert(enc.decode(ids, errors="replace"))), "SPTokenizer steps on tiktoken " + tiktoken.__version__


def hf_encoder(tokenizer_json):
    import tokenizers
    tok = tokenizers.Tokenizer.from_file(tokenizer_json)
    return (lambda text: tok.encode(text, add_special_tokens=False).ids), (lambda ids: tok.decode(ids, skip_special_tokens=False)), \
        "tokenizers " + tokenizers.__version__


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("zhinao", "hf"):
        sys.exit(__doc__)
    kind, source, name = sys.argv[1:]
    if kind == "zhinao":
        vocab = os.path.join(source, "vocab", "360.tiktoken")
        encode, decode, reference = zhinao_encoder(source)
    else:
        vocab = source
        encode, decode, reference = hf_encoder(source)
    # ids are golden only for the exact vocabulary: keep a copy of it beside them, named after the set
    import shutil
    kept = name + (".tiktoken" if kind == "zhinao" else ".tokenizer.json")
    if os.path.abspath(vocab) != os.path.join(HERE, kept):
        shutil.copyfile(vocab, os.path.join(HERE, kept))
    out_path = os.path.join(HERE, name + ".ids.jsonl")
    with open(os.path.join(HERE, "cases.jsonl"), encoding="utf-8") as f, open(out_path, "w", encoding="utf-8") as out:
        out.write(json.dumps({"golden": 1, "tokenizer": name, "kind": kind, "vocab": kept,
                              "vocab_sha256": sha256(vocab), "reference": reference}, ensure_ascii=False) + "\n")
        for line in f:
            case = json.loads(line)
            ids = list(encode(case["text"]))
            out.write(json.dumps({"name": case["name"], "text": case["text"], "ids": ids, "decoded": decode(ids)},
                                 ensure_ascii=False) + "\n")
    print("wrote", out_path)


if __name__ == "__main__":
    main()
