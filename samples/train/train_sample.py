#!/usr/bin/python3
"""Builds zq's sample model: a tiny, trained 360Zhinao-architecture checkpoint plus its golden data.

Pipeline (each stage caches its output in --work, so a later stage can be rerun alone):
  corpus  extract Tang/Song poems (fortunes-zh) and the KJV Bible (bible-kjv), split train / held-out,
          write samples/data/{eval.txt, calib.txt, calib-conversations.json}
  bpe     train a byte-level BPE (tiktoken rank format) with the 360Zhinao/Qwen2 split regex,
          write samples/zhinao-tiny/vocab/360.tiktoken, tokenizer_config.json, generation_config.json
  train   train ZhinaoForCausalLM (PyTorch, one CPU thread) on the training text
  export  write samples/zhinao-tiny/model.safetensors (BF16) and config.json
  golden  recompute everything zq's Java tests compare against from the BF16 file, in float64,
          write samples/data/golden.json

The tokenizer and model code here are an independent reference for zq's Java implementation, so they
follow 360Zhinao's tokenization_zhinao.py / finetune.py and HF Qwen2 semantics literally.
"""
import argparse
import base64
import heapq
import json
import math
import os
import random
import struct
import subprocess
import sys
import time
from collections import Counter, defaultdict

import regex
import torch
import torch.nn as nn
import torch.nn.functional as F

# ----------------------------------------------------------------------------------------------
# Constants shared by every stage
# ----------------------------------------------------------------------------------------------

PAT_STR = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
SPECIAL_TOKENS = ("<pad>", "<unk>", "<mask>", "<eod>", "<eop>",
                  "[space2]", "[space3]", "[space4]", "[space8]",
                  "<|im_start|>", "<|im_end|>")
DEFAULT_SYSTEM = "You are a helpful assistant."
NUM_RANKS = 4000          # 256 single bytes + 3744 merges
SEQ_LEN = 256
SEED = 1234

FORTUNE_DIR = "/usr/share/games/fortunes"
CHINESE_FILES = ("tang300", "song100")
# Held-out English: whole books never seen in training.
HELD_OUT_BOOKS = ("Ruth", "Jonah")
# Held-out Chinese: every HELD_OUT_POEM_EVERY-th poem of each file (offset below), never seen in training.
HELD_OUT_POEM_EVERY = 11
HELD_OUT_POEM_OFFSET = 5


def model_dims(vocab_size):
    return dict(vocab_size=vocab_size, hidden_size=256, intermediate_size=768, num_hidden_layers=4,
                num_attention_heads=8, num_key_value_heads=2, max_position_embeddings=1024,
                rope_theta=10000.0, rms_norm_eps=1e-5)


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


def write_json(path, obj, indent=1):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=indent)
        f.write("\n")


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


# ----------------------------------------------------------------------------------------------
# Stage 1: corpus
# ----------------------------------------------------------------------------------------------

ANSI = regex.compile(r"\x1b\[[0-9;]*m")
MULTISPACE = regex.compile(r"[ \t\u3000]{2,}")


def read_poems(name):
    """One document per fortune entry: title line, author line, verse lines; blank lines and
    the centring indentation of sub-titles dropped (so no multi-space runs reach the corpus)."""
    with open(os.path.join(FORTUNE_DIR, name), encoding="utf-8") as f:
        raw = ANSI.sub("", f.read())
    poems = []
    for entry in raw.split("\n%\n"):
        lines = [MULTISPACE.sub(" ", ln.strip()) for ln in entry.split("\n")]
        lines = [ln for ln in lines if ln and ln != "%"]
        if len(lines) >= 3:
            poems.append("\n".join(lines))
    return poems


def read_bible():
    """One document per chapter: 'Book N' then one 'verse text' line per verse."""
    out = subprocess.run(["bible", "-l10000", "gen1:1-rev22:21"], check=True,
                         capture_output=True, text=True).stdout
    chapters = []  # (book, text)
    cur_title, cur_lines = None, []
    for ln in out.split("\n"):
        if not ln.strip():
            continue
        if ln.startswith("  "):
            cur_lines.append(MULTISPACE.sub(" ", ln.strip()))
        else:
            if cur_title is not None:
                chapters.append((cur_title.rsplit(" ", 1)[0], cur_title + "\n" + "\n".join(cur_lines)))
            cur_title, cur_lines = ln.strip(), []
    chapters.append((cur_title.rsplit(" ", 1)[0], cur_title + "\n" + "\n".join(cur_lines)))
    return chapters


def build_chat_examples(zh_poems, en_chapters, n, rng, with_system_every=3):
    """Conversations in 360Zhinao's fine-tuning format, made from training text:
    the user gives one line/half-verse and the assistant continues it."""
    systems = ["You are a poet who knows the Tang and Song classics.",
               "你是一位熟读唐诗宋词的诗人。",
               "You are a scholar of the King James Bible."]
    convs = []
    for i in range(n):
        if i % 2 == 0:
            poem = rng.choice(zh_poems).split("\n")
            verses = poem[2:]
            if len(verses) < 2:
                continue
            j = rng.randrange(len(verses) - 1)
            title = poem[0].replace("题目:", "")
            turns = [("user", f"请续写{title}的下一句：{verses[j]}"), ("assistant", verses[j + 1])]
            if rng.random() < 0.3 and j + 2 < len(verses):
                turns += [("user", "再来一句。"), ("assistant", verses[j + 2])]
        else:
            _, text = rng.choice(en_chapters)
            verses = text.split("\n")[1:]
            v = rng.choice(verses).split(" ", 1)[1]
            words = v.split(" ")
            if len(words) < 6:
                continue
            cut = len(words) // 2
            turns = [("user", "Continue this verse: " + " ".join(words[:cut])),
                     ("assistant", " ".join(words[cut:]))]
        msgs = []
        if i % with_system_every == 0:
            msgs.append({"from": "system", "value": systems[(i // 2) % 2] if i % 2 == 0 else systems[2]})
        msgs += [{"from": r, "value": v} for r, v in turns]
        convs.append(msgs)
    return convs


def stage_corpus(args):
    rng = random.Random(SEED)
    train_zh, held_zh = [], []
    for name in CHINESE_FILES:
        for i, p in enumerate(read_poems(name)):
            (held_zh if i % HELD_OUT_POEM_EVERY == HELD_OUT_POEM_OFFSET else train_zh).append(p)
    chapters = read_bible()
    train_en = [c for c in chapters if c[0] not in HELD_OUT_BOOKS]
    held_en = [c[1] for c in chapters if c[0] in HELD_OUT_BOOKS]
    log(f"poems train {len(train_zh)} held {len(held_zh)}; chapters train {len(train_en)} held {len(held_en)}")

    # eval.txt: held-out chapters interleaved with held-out poems, so windows mix both languages.
    per = math.ceil(len(held_zh) / len(held_en))
    parts = []
    for k, ch in enumerate(held_en):
        parts.append(ch)
        parts.extend(held_zh[k * per:(k + 1) * per])
    eval_text = "\n\n".join(parts) + "\n"
    assert "  " not in eval_text and not any(s in eval_text for s in SPECIAL_TOKENS)

    # calib.txt: ~50 KB of training text, Chinese and English.
    zh_pick = rng.sample(train_zh, 60)
    en_pick = [c[1] for c in rng.sample(train_en, 10)]
    mix = []
    while zh_pick or en_pick:
        if en_pick:
            mix.append(en_pick.pop())
        for _ in range(5):
            if zh_pick:
                mix.append(zh_pick.pop())
    kept, size = [], 0
    for doc in mix:
        if size >= 50_000:
            break
        kept.append(doc)
        size += len(doc.encode()) + 2
    calib_text = "\n\n".join(kept) + "\n"

    en_texts = [c[1] for c in train_en]
    calib_convs = build_chat_examples(train_zh, train_en, 110, random.Random(SEED + 1))
    calib_json = [{"id": f"calib-{i:03d}", "conversations": c} for i, c in enumerate(calib_convs)]
    train_convs = build_chat_examples(train_zh, train_en, 1200, random.Random(SEED + 2))

    data_dir = os.path.join(args.out, "data")
    os.makedirs(data_dir, exist_ok=True)
    with open(os.path.join(data_dir, "eval.txt"), "w", encoding="utf-8") as f:
        f.write(eval_text)
    with open(os.path.join(data_dir, "calib.txt"), "w", encoding="utf-8") as f:
        f.write(calib_text)
    write_json(os.path.join(data_dir, "calib-conversations.json"), calib_json)
    write_json(os.path.join(args.work, "corpus.json"),
               {"zh": train_zh, "en": en_texts, "chat": train_convs}, indent=None)
    log(f"eval.txt {len(eval_text.encode())} B, calib.txt {len(calib_text.encode())} B, "
        f"calib conversations {len(calib_json)}, training: zh {sum(len(p.encode()) for p in train_zh)} B, "
        f"en {sum(len(t.encode()) for t in en_texts)} B, chat {len(train_convs)}")


# ----------------------------------------------------------------------------------------------
# Tokenizer: 360Zhinao pre-processing + tiktoken semantics
# ----------------------------------------------------------------------------------------------

SPLIT = regex.compile(PAT_STR)
SPACE_RUNS = [(" " * n, f"[space{n}]") for n in (8, 4, 3, 2)]   # longest first, like SPTokenizer.convert


def zhinao_convert(text):
    for k in ("[br]", "<br>"):
        text = text.replace(k, "\n")
    for spaces, token in SPACE_RUNS:
        text = text.replace(spaces, token)
    return text


class ZhinaoTokenizer:
    def __init__(self, ranks):
        self.ranks = ranks                                   # bytes -> rank
        self.decoder = {r: b for b, r in ranks.items()}
        self.special = {t: len(ranks) + i for i, t in enumerate(SPECIAL_TOKENS)}
        self.special_re = regex.compile("|".join(regex.escape(t) for t in SPECIAL_TOKENS))
        self.cache = {}

    @staticmethod
    def load(path):
        ranks = {}
        with open(path, "rb") as f:
            for line in f.read().splitlines():
                if line:
                    tok, rank = line.split()
                    ranks[base64.b64decode(tok)] = int(rank)
        return ZhinaoTokenizer(ranks)

    def _bpe(self, piece):
        """tiktoken's byte-pair merge: repeatedly join the adjacent pair whose concatenation has the
        lowest rank (leftmost on ties) until no adjacent concatenation is a token."""
        parts = [piece[i:i + 1] for i in range(len(piece))]
        while len(parts) > 1:
            best, at = None, -1
            for i in range(len(parts) - 1):
                r = self.ranks.get(parts[i] + parts[i + 1])
                if r is not None and (best is None or r < best):
                    best, at = r, i
            if best is None:
                break
            parts[at:at + 2] = [parts[at] + parts[at + 1]]
        return [self.ranks[p] for p in parts]

    def encode_ordinary(self, text):
        ids = []
        for piece in SPLIT.findall(text):
            b = piece.encode("utf-8")
            got = self.cache.get(b)
            if got is None:
                r = self.ranks.get(b)
                got = [r] if r is not None else self._bpe(b)
                self.cache[b] = got
            ids.extend(got)
        return ids

    def encode(self, text):
        """SPTokenizer.encode: convert(), then tiktoken encode with allowed_special='all'."""
        text = zhinao_convert(text)
        ids, start = [], 0
        for m in self.special_re.finditer(text):
            ids.extend(self.encode_ordinary(text[start:m.start()]))
            ids.append(self.special[m.group()])
            start = m.end()
        ids.extend(self.encode_ordinary(text[start:]))
        return ids

    def decode(self, ids):
        inv_special = {v: k for k, v in self.special.items()}
        out = b"".join(inv_special[i].encode() if i in inv_special else self.decoder[i] for i in ids)
        text = out.decode("utf-8", errors="replace")
        for spaces, token in SPACE_RUNS:
            text = text.replace(token, spaces)
        return text

    def encode_chat(self, conversation):
        """Piecewise ids exactly as 360Zhinao's finetune.py builds them."""
        im_start, im_end = [self.special["<|im_start|>"]], [self.special["<|im_end|>"]]
        br = self.encode("\n")
        msgs = list(conversation)
        system = DEFAULT_SYSTEM
        if msgs and msgs[0]["from"] == "system":
            system = msgs[0]["value"]
            msgs = msgs[1:]
        ids = im_start + self.encode("system") + br + self.encode(system) + im_end + br
        for m in msgs:
            ids += im_start + self.encode(m["from"]) + br + self.encode(m["value"]) + im_end + br
        return ids


def pieces_of(text):
    """Regex pieces of the ordinary (non-special) segments of text after 360Zhinao pre-processing."""
    text = zhinao_convert(text)
    out = []
    for seg in regex.split("|".join(regex.escape(t) for t in SPECIAL_TOKENS), text):
        out.extend(SPLIT.findall(seg))
    return out


def train_bpe(word_counts, num_ranks):
    """Byte-level BPE: ranks 0..255 are the single bytes, then one rank per merge in merge order
    (GPT-2/tiktoken convention), so tiktoken-style encoding is consistent with the merge list.
    Incremental pair counts; ties broken by the smaller byte pair, so the result is deterministic."""
    ranks = {bytes([i]): i for i in range(256)}
    words = [[bytes([c]) for c in w] for w in word_counts]
    counts = list(word_counts.values())
    pair_counts = defaultdict(int)
    where = defaultdict(set)
    for wi, w in enumerate(words):
        for p in zip(w, w[1:]):
            pair_counts[p] += counts[wi]
            where[p].add(wi)
    heap = [(-c, p) for p, c in pair_counts.items()]
    heapq.heapify(heap)
    duplicates = 0
    while len(ranks) < num_ranks and heap:
        negc, pair = heapq.heappop(heap)
        if pair_counts.get(pair, 0) != -negc or negc == 0:
            continue
        a, b = pair
        new = a + b
        if new in ranks:
            duplicates += 1      # same bytes reachable by another split: keep the earlier (lower) rank
        else:
            ranks[new] = len(ranks)
        changed = set()
        for wi in list(where[pair]):
            w, c = words[wi], counts[wi]
            if len(w) < 2:
                continue
            merged, i, hit = [], 0, False
            while i < len(w):
                if i + 1 < len(w) and w[i] == a and w[i + 1] == b:
                    merged.append(new)
                    i += 2
                    hit = True
                else:
                    merged.append(w[i])
                    i += 1
            if not hit:
                continue
            for p in zip(w, w[1:]):
                pair_counts[p] -= c
                changed.add(p)
            for p in zip(merged, merged[1:]):
                pair_counts[p] += c
                where[p].add(wi)
                changed.add(p)
            words[wi] = merged
        del where[pair]
        for p in changed:
            c = pair_counts[p]
            if c > 0:
                heapq.heappush(heap, (-c, p))
            else:
                pair_counts.pop(p, None)
    return ranks, duplicates


def tokenizer_config(num_ranks):
    ids = {t: num_ranks + i for i, t in enumerate(SPECIAL_TOKENS)}
    template = ("{% for message in messages %}"
                "{% if loop.first and messages[0]['role'] != 'system' %}"
                "{{ '<|im_start|>system\\n" + DEFAULT_SYSTEM + "<|im_end|>\\n' }}{% endif %}"
                "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
                "{% endfor %}"
                "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")
    return {
        "auto_map": {"AutoTokenizer": ["tokenization_zhinao.ZhinaoTokenizer", None]},
        "tokenizer_class": "ZhinaoTokenizer",
        "model_max_length": 1024,
        "padding_side": "left",
        "clean_up_tokenization_spaces": False,
        "eos_token": "<eod>",
        "pad_token": "<pad>",
        "unk_token": "<unk>",
        "added_tokens_decoder": {str(v): {"content": k, "special": True} for k, v in ids.items()},
        "chat_template": template,
    }


def stage_bpe(args):
    corpus = read_json(os.path.join(args.work, "corpus.json"))
    wc = Counter()
    for t in corpus["en"]:
        wc.update(p.encode() for p in pieces_of(t))
    zh = Counter()
    for t in corpus["zh"]:
        zh.update(p.encode() for p in pieces_of(t))
    # The poems are ~3% of the bytes; weighting them lets frequent Chinese characters earn tokens.
    for k, v in zh.items():
        wc[k] += v * args.zh_bpe_weight
    t0 = time.time()
    ranks, dup = train_bpe(wc, NUM_RANKS)
    log(f"BPE: {len(ranks)} ranks ({dup} duplicate merges skipped) in {time.time() - t0:.1f}s")
    vocab_dir = os.path.join(args.out, "zhinao-tiny", "vocab")
    os.makedirs(vocab_dir, exist_ok=True)
    with open(os.path.join(vocab_dir, "360.tiktoken"), "wb") as f:
        for tok, r in sorted(ranks.items(), key=lambda kv: kv[1]):
            f.write(base64.b64encode(tok) + b" " + str(r).encode() + b"\n")
    mdir = os.path.join(args.out, "zhinao-tiny")
    write_json(os.path.join(mdir, "tokenizer_config.json"), tokenizer_config(len(ranks)), indent=2)
    eod, im_start, im_end = (len(ranks) + SPECIAL_TOKENS.index(t) for t in ("<eod>", "<|im_start|>", "<|im_end|>"))
    write_json(os.path.join(mdir, "generation_config.json"), {
        "bos_token_id": eod, "eos_token_id": [eod, im_start, im_end], "pad_token_id": len(ranks),
        "do_sample": False, "max_new_tokens": 256, "repetition_penalty": 1.0,
        "transformers_version": "4.37.2"}, indent=2)


def load_tokenizer(args):
    return ZhinaoTokenizer.load(os.path.join(args.out, "zhinao-tiny", "vocab", "360.tiktoken"))


# ----------------------------------------------------------------------------------------------
# Model: ZhinaoForCausalLM with HF Qwen2/Llama semantics and the fused per-group qkv_proj
# ----------------------------------------------------------------------------------------------

class RMSNorm(nn.Module):
    def __init__(self, n, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.eps = eps

    def forward(self, x):
        dt = x.dtype
        h = x.to(torch.float32) if dt != torch.float64 else x
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * h.to(dt)


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.nh, self.nkv = c["num_attention_heads"], c["num_key_value_heads"]
        self.hd = c["hidden_size"] // self.nh
        self.g = self.nh // self.nkv
        self.qkv_proj = nn.Linear(c["hidden_size"], (self.nh + 2 * self.nkv) * self.hd, bias=True)
        self.o_proj = nn.Linear(self.nh * self.hd, c["hidden_size"], bias=False)

    def forward(self, x, cos, sin):
        B, T, _ = x.shape
        # Output rows are grouped per KV head as [q_0..q_{G-1}, k, v] (360Zhinao layout):
        # query head g*G+j belongs to KV group g, which is what repeat_interleave below assumes.
        qkv = self.qkv_proj(x).view(B, T, self.nkv, self.g + 2, self.hd)
        q = qkv[:, :, :, :self.g, :].reshape(B, T, self.nh, self.hd).transpose(1, 2)
        k = qkv[:, :, :, self.g, :].transpose(1, 2)
        v = qkv[:, :, :, self.g + 1, :].transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(self.g, dim=1)
        v = v.repeat_interleave(self.g, dim=1)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(self.hd)
        mask = torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1)
        att = att.masked_fill(mask, float("-inf"))
        att = torch.softmax(att.to(torch.float32) if att.dtype != torch.float64 else att, dim=-1).to(q.dtype)
        y = (att @ v).transpose(1, 2).reshape(B, T, self.nh * self.hd)
        return self.o_proj(y)


class MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.gate_proj = nn.Linear(c["hidden_size"], c["intermediate_size"], bias=False)
        self.up_proj = nn.Linear(c["hidden_size"], c["intermediate_size"], bias=False)
        self.down_proj = nn.Linear(c["intermediate_size"], c["hidden_size"], bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.input_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.self_attn = Attention(c)
        self.post_attention_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.mlp = MLP(c)

    def forward(self, x, cos, sin):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin)
        return x + self.mlp(self.post_attention_layernorm(x))


class ZhinaoModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed_tokens = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.layers = nn.ModuleList(DecoderLayer(c) for _ in range(c["num_hidden_layers"]))
        self.norm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.head_dim = c["hidden_size"] // c["num_attention_heads"]
        self.rope_theta = c["rope_theta"]

    def forward(self, ids):
        x = self.embed_tokens(ids)
        # fp32 (training): inv_freq and angles in fp32 as HF and the 360Zhinao tech report do.
        # fp64 (golden data): everything in fp64, so an independent double-precision port can match
        # to ~1e-12 instead of inheriting fp32 angle rounding (~1e-5 at position 255).
        rope_dtype = torch.float64 if x.dtype == torch.float64 else torch.float32
        hd = self.head_dim
        inv_freq = 1.0 / (self.rope_theta ** (torch.arange(0, hd, 2, dtype=torch.int64).to(rope_dtype) / hd))
        pos = torch.arange(ids.shape[1], dtype=rope_dtype)
        freqs = torch.outer(pos, inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
        for layer in self.layers:
            x = layer(x, cos, sin)
        return self.norm(x)


class ZhinaoForCausalLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.config = c
        self.model = ZhinaoModel(c)
        self.lm_head = nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, std=0.02)
                if getattr(m, "bias", None) is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, ids):
        return self.lm_head(self.model(ids))


TENSOR_ORDER_PER_LAYER = ("input_layernorm.weight", "self_attn.qkv_proj.weight", "self_attn.qkv_proj.bias",
                          "self_attn.o_proj.weight", "post_attention_layernorm.weight",
                          "mlp.gate_proj.weight", "mlp.up_proj.weight", "mlp.down_proj.weight")


def tensor_names(num_layers):
    names = ["model.embed_tokens.weight"]
    for i in range(num_layers):
        names += [f"model.layers.{i}.{n}" for n in TENSOR_ORDER_PER_LAYER]
    return names + ["model.norm.weight", "lm_head.weight"]


# ----------------------------------------------------------------------------------------------
# Stage 3: training
# ----------------------------------------------------------------------------------------------

def training_stream(tok, corpus, zh_repeat, rng):
    """Documents separated by <eod>: KJV chapters, poems repeated zh_repeat times, and chat
    conversations rendered as finetune.py does; shuffled once."""
    eod = tok.special["<eod>"]
    docs = [tok.encode(t) for t in corpus["en"]]
    zh = [tok.encode(t) for t in corpus["zh"]]
    docs += zh * zh_repeat
    docs += [tok.encode_chat(c) for c in corpus["chat"]]
    rng.shuffle(docs)
    stream = []
    for d in docs:
        stream.extend(d)
        stream.append(eod)
    return torch.tensor(stream, dtype=torch.long)


def eval_tokens(args, tok):
    with open(os.path.join(args.out, "data", "eval.txt"), encoding="utf-8") as f:
        return tok.encode(f.read())


def windowed_nll(model, ids, seqlen, dtype):
    """Non-overlapping windows; each window predicts its tokens 2..n from their prefix; a final
    shorter window counts if it has >= 2 tokens. Returns (sum nll, predicted count, windows)."""
    total, count, windows = 0.0, 0, 0
    with torch.no_grad():
        for s in range(0, len(ids), seqlen):
            w = ids[s:s + seqlen]
            if len(w) < 2:
                continue
            x = torch.tensor([w], dtype=torch.long)
            logits = model(x)[0].to(dtype)
            lp = torch.log_softmax(logits[:-1], dim=-1)
            nll = -lp.gather(1, x[0, 1:, None]).sum()
            total += float(nll)
            count += len(w) - 1
            windows += 1
    return total, count, windows


def stage_train(args):
    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    tok = load_tokenizer(args)
    corpus = read_json(os.path.join(args.work, "corpus.json"))
    stream = training_stream(tok, corpus, args.zh_repeat, random.Random(SEED))
    ev = eval_tokens(args, tok)
    vocab = (len(tok.ranks) + len(SPECIAL_TOKENS) + 127) // 128 * 128
    cfg = model_dims(vocab)
    model = ZhinaoForCausalLM(cfg)
    nparams = sum(p.numel() for p in model.parameters())
    log(f"stream {len(stream)} tokens; eval {len(ev)} tokens; vocab {vocab}; params {nparams}")

    decay = [p for n, p in model.named_parameters() if p.dim() == 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8)

    # Progress through the cosine schedule: by step count, or (with --minutes) by elapsed wall time,
    # so the run ends within the time budget however loaded the shared CPU is.
    def progress(step, elapsed):
        if args.minutes:
            return min(1.0, elapsed / (args.minutes * 60))
        return step / args.steps

    def lr_at(step, frac):
        if step < args.warmup:
            return args.lr * (step + 1) / args.warmup
        return args.min_lr + 0.5 * (args.lr - args.min_lr) * (1 + math.cos(math.pi * frac))

    n_chunks = (len(stream) - 1) // SEQ_LEN
    order = torch.randperm(n_chunks, generator=torch.Generator().manual_seed(SEED))
    cursor = 0
    t0 = time.time()
    history = []
    step, frac = 0, 0.0
    while (frac < 1.0) if args.minutes else (step < args.steps):
        idx = []
        for _ in range(args.batch):
            if cursor == n_chunks:
                order = torch.randperm(n_chunks)
                cursor = 0
            idx.append(int(order[cursor]) * SEQ_LEN)
            cursor += 1
        batch = torch.stack([stream[i:i + SEQ_LEN + 1] for i in idx])
        lr = lr_at(step, frac)
        for g in opt.param_groups:
            g["lr"] = lr
        logits = model(batch[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, vocab), batch[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        frac = progress(step, time.time() - t0)
        last = (frac >= 1.0) if args.minutes else (step == args.steps)
        if step % 25 == 0 or last:
            msg = f"step {step} loss {loss.item():.3f} lr {lr:.2e} {time.time() - t0:.0f}s"
            if step % 100 == 0 or last:
                model.eval()
                s, c, _ = windowed_nll(model, ev, SEQ_LEN, torch.float32)
                model.train()
                msg += f" held-out ppl {math.exp(s / c):.2f}"
                history.append({"step": step, "train_loss": loss.item(), "eval_ppl": math.exp(s / c),
                                "seconds": time.time() - t0})
            log(msg)
    elapsed = time.time() - t0
    args.steps = step
    torch.save(model.state_dict(), os.path.join(args.work, "model.pt"))
    write_json(os.path.join(args.work, "train_log.json"), {
        "seconds": elapsed, "params": nparams, "steps": args.steps, "batch": args.batch, "seq_len": SEQ_LEN,
        "tokens_seen": args.steps * args.batch * SEQ_LEN, "stream_tokens": len(stream), "lr": args.lr,
        "min_lr": args.min_lr, "warmup": args.warmup, "minutes": args.minutes, "zh_repeat": args.zh_repeat, "history": history,
        "config": cfg})
    log(f"trained in {elapsed:.0f}s")


# ----------------------------------------------------------------------------------------------
# Stage 4: export (BF16 safetensors + config.json)
# ----------------------------------------------------------------------------------------------

def write_safetensors_bf16(path, tensors):
    """safetensors: u64 LE header length, JSON header padded with spaces to a multiple of 8, data."""
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, t in tensors:
        raw = t.detach().to(torch.bfloat16).contiguous().view(torch.int16).numpy().astype("<i2").tobytes()
        header[name] = {"dtype": "BF16", "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def read_safetensors_bf16(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "BF16", name
        a, b = info["data_offsets"]
        raw = torch.frombuffer(bytearray(data[a:b]), dtype=torch.int16)
        out[name] = raw.view(torch.bfloat16).reshape(info["shape"])
    return header, out


def zhinao_config_json(cfg, num_ranks):
    ids = {t: num_ranks + i for i, t in enumerate(SPECIAL_TOKENS)}
    return {
        "architectures": ["ZhinaoForCausalLM"],
        "auto_map": {"AutoConfig": "configuration_zhinao.ZhinaoConfig",
                     "AutoModelForCausalLM": "modeling_zhinao.ZhinaoForCausalLM"},
        "model_type": "zhinao",
        "bos_token_id": ids["<eod>"],
        "eos_token_id": ids["<eod>"],
        "pad_token_id": ids["<pad>"],
        "hidden_act": "silu",
        "hidden_size": cfg["hidden_size"],
        "initializer_range": 0.02,
        "intermediate_size": cfg["intermediate_size"],
        "max_position_embeddings": cfg["max_position_embeddings"],
        "num_attention_heads": cfg["num_attention_heads"],
        "num_hidden_layers": cfg["num_hidden_layers"],
        "num_key_value_heads": cfg["num_key_value_heads"],
        "rms_norm_eps": cfg["rms_norm_eps"],
        "rope_scaling": None,
        "rope_theta": cfg["rope_theta"],
        "tie_word_embeddings": False,
        "torch_dtype": "bfloat16",
        "transformers_version": "4.37.2",
        "use_cache": True,
        "vocab_size": cfg["vocab_size"],
    }


def stage_export(args):
    info = read_json(os.path.join(args.work, "train_log.json"))
    cfg = info["config"]
    sd = torch.load(os.path.join(args.work, "model.pt"))
    names = tensor_names(cfg["num_hidden_layers"])
    assert sorted(names) == sorted(sd.keys()), set(names) ^ set(sd.keys())
    mdir = os.path.join(args.out, "zhinao-tiny")
    write_safetensors_bf16(os.path.join(mdir, "model.safetensors"), [(n, sd[n]) for n in names])
    num_ranks = len(load_tokenizer(args).ranks)
    write_json(os.path.join(mdir, "config.json"), zhinao_config_json(cfg, num_ranks), indent=2)
    log(f"model.safetensors {os.path.getsize(os.path.join(mdir, 'model.safetensors'))} B")


# ----------------------------------------------------------------------------------------------
# Stage 5: golden data, recomputed from the exported files only
# ----------------------------------------------------------------------------------------------

TOKENIZER_CASES = [
    "Hello, world!",
    "床前明月光，疑是地上霜。",
    "In the beginning God created 天地。And the earth was without form, and void.",
    "a  b",
    "a   b",
    "a    b",
    "a     b",
    "a      b",
    "a        b",
    "a         b",
    "x" + " " * 17 + "y",
    "line1<br>line2[br]line3<br><br>end",
    "user text with <|im_start|>assistant\nfake<|im_end|> inside",
    "<eod><pad>[space2] literal special-token text",
    "Numbers: 12345 and 3.14159, year 2024, 第３章.",
    "I love 🍵 and 🐉! 😀👍🏽",
    "first\n\nsecond\r\nthird\n\n\n",
    "def f(x):\n    return x * 2\n\nif __name__ == '__main__':\n        print(f(21))  # done\n",
    "It's they're we'll I'D YOU'VE don't",
    " leading and trailing   ",
    "\tindented\t\ttabs\t",
    "全角：ＡＢＣ１２３　空格　　两个",
    "  ",
    "",
    "题目:《寒食》\n作者:王禹偁（９５４－１００１）\n今年寒食在商山，山里风光亦可怜：",
]


def load_exported_model(args, dtype):
    cfg_json = read_json(os.path.join(args.out, "zhinao-tiny", "config.json"))
    cfg = model_dims(cfg_json["vocab_size"])
    for k in cfg:
        assert cfg[k] == cfg_json[k], k
    header, tensors = read_safetensors_bf16(os.path.join(args.out, "zhinao-tiny", "model.safetensors"))
    assert header["__metadata__"] == {"format": "pt"}
    model = ZhinaoForCausalLM(cfg)
    model.load_state_dict({k: v.to(torch.float32) for k, v in tensors.items()}, strict=True)
    return model.to(dtype).eval(), cfg


def per_head_reference_logits(tensors, cfg, ids):
    """A second, loop-level float64 forward over a Qwen2-style checkpoint obtained by de-interleaving
    qkv_proj the way vLLM's / chatllm.cpp's Zhinao loaders do (view rows as (nKV, G+2, hd); slots
    0..G-1 -> Q, G -> K, G+1 -> V). Guards the fused-layout forward used everywhere else."""
    t = {k: v.to(torch.float64) for k, v in tensors.items()}
    H, nh, nkv = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd, G, eps = H // nh, nh // nkv, cfg["rms_norm_eps"]
    inv = [1.0 / (cfg["rope_theta"] ** (2 * i / hd)) for i in range(hd // 2)]

    def rms(x, w):
        return w * (x / torch.sqrt((x * x).mean() + eps))

    def rope(v, pos):
        out = v.clone()
        for i in range(hd // 2):
            c, s = math.cos(pos * inv[i]), math.sin(pos * inv[i])
            out[i] = v[i] * c - v[i + hd // 2] * s
            out[i + hd // 2] = v[i + hd // 2] * c + v[i] * s
        return out

    xs = [t["model.embed_tokens.weight"][i].clone() for i in ids]
    for L in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{L}."
        w = t[p + "self_attn.qkv_proj.weight"].view(nkv, G + 2, hd, H)
        b = t[p + "self_attn.qkv_proj.bias"].view(nkv, G + 2, hd)
        wq, bq = w[:, :G].reshape(nh * hd, H), b[:, :G].reshape(nh * hd)
        wk, bk = w[:, G].reshape(nkv * hd, H), b[:, G].reshape(nkv * hd)
        wv, bv = w[:, G + 1].reshape(nkv * hd, H), b[:, G + 1].reshape(nkv * hd)
        hs = [rms(x, t[p + "input_layernorm.weight"]) for x in xs]
        q = [(wq @ h + bq).view(nh, hd) for h in hs]
        k = [(wk @ h + bk).view(nkv, hd) for h in hs]
        v = [(wv @ h + bv).view(nkv, hd) for h in hs]
        q = [torch.stack([rope(q[pos][h], pos) for h in range(nh)]) for pos in range(len(ids))]
        k = [torch.stack([rope(k[pos][h], pos) for h in range(nkv)]) for pos in range(len(ids))]
        new = []
        for pos in range(len(ids)):
            heads = []
            for h in range(nh):
                kv = h // G
                sc = torch.tensor([float(q[pos][h] @ k[s][kv]) / math.sqrt(hd) for s in range(pos + 1)],
                                  dtype=torch.float64)
                a = torch.exp(sc - sc.max())
                a = a / a.sum()
                heads.append(sum(a[s] * v[s][kv] for s in range(pos + 1)))
            x = xs[pos] + t[p + "self_attn.o_proj.weight"] @ torch.cat(heads)
            h2 = rms(x, t[p + "post_attention_layernorm.weight"])
            g = t[p + "mlp.gate_proj.weight"] @ h2
            u = t[p + "mlp.up_proj.weight"] @ h2
            new.append(x + t[p + "mlp.down_proj.weight"] @ (g / (1 + torch.exp(-g)) * u))
        xs = new
    return torch.stack([t["lm_head.weight"] @ rms(x, t["model.norm.weight"]) for x in xs])


def stage_golden(args):
    torch.set_num_threads(1)
    tok = load_tokenizer(args)
    model64, cfg = load_exported_model(args, torch.float64)
    with open(os.path.join(args.out, "data", "eval.txt"), encoding="utf-8") as f:
        eval_text = f.read()
    ev = tok.encode(eval_text)
    s, c, w = windowed_nll(model64, ev, SEQ_LEN, torch.float64)
    ppl = math.exp(s / c)
    model32, _ = load_exported_model(args, torch.float32)
    s32, c32, _ = windowed_nll(model32, ev, SEQ_LEN, torch.float64)
    log(f"held-out ppl (BF16 weights, fp64) {ppl:.4f}; fp32 compute {math.exp(s32 / c32):.4f}")

    first = ev[:16]
    with torch.no_grad():
        logits = model64(torch.tensor([first]))[0]
    _, tensors = read_safetensors_bf16(os.path.join(args.out, "zhinao-tiny", "model.safetensors"))
    ref = per_head_reference_logits(tensors, cfg, first)
    diff = float((ref - logits).abs().max())
    log(f"per-head reference vs fused forward, 16 tokens: max |logit diff| {diff:.3e}")
    assert diff < 1e-9, diff
    calib = read_json(os.path.join(args.out, "data", "calib-conversations.json"))
    chat_idx = next(i for i, cv in enumerate(calib) if cv["conversations"][0]["from"] != "system")
    chat_ids = tok.encode_chat(calib[chat_idx]["conversations"])
    for case in TOKENIZER_CASES:
        assert tok.decode(tok.encode(case)) == zhinao_convert(case).replace("[space8]", " " * 8) \
            .replace("[space4]", " " * 4).replace("[space3]", " " * 3).replace("[space2]", " " * 2), case
    golden = {
        "about": "Computed by samples/train/train_sample.py (PyTorch, float64) from samples/zhinao-tiny; "
                 "see samples/README.md.",
        "special_tokens": {t: tok.special[t] for t in SPECIAL_TOKENS},
        "num_ranks": len(tok.ranks),
        "vocab_size": cfg["vocab_size"],
        "tokenizer": [{"text": t, "ids": tok.encode(t)} for t in TOKENIZER_CASES],
        "eval_ppl": {"file": "samples/data/eval.txt", "seqlen": SEQ_LEN, "eval_tokens": len(ev),
                     "tokens": c, "windows": w, "nll_sum": s, "ppl": ppl,
                     "ppl_fp32_compute": math.exp(s32 / c32)},
        "logits": {"ids": first, "positions": {str(p): logits[p].tolist() for p in (0, 7, 15)}},
        "chat": {"source": "samples/data/calib-conversations.json", "index": chat_idx,
                 "id": calib[chat_idx]["id"], "default_system": DEFAULT_SYSTEM,
                 "conversations": calib[chat_idx]["conversations"], "ids": chat_ids},
    }
    write_json(os.path.join(args.out, "data", "golden.json"), golden, indent=1)
    log(f"golden.json written: {len(TOKENIZER_CASES)} tokenizer cases, eval tokens {len(ev)}, windows {w}")


# ----------------------------------------------------------------------------------------------

def stage_bench(args):
    """Times a few training steps, to size --steps for the time budget."""
    torch.set_num_threads(1)
    cfg = model_dims(4096)
    model = ZhinaoForCausalLM(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x = torch.randint(0, 4000, (args.batch, SEQ_LEN + 1))
    for i in range(6):
        t0 = time.time()
        loss = F.cross_entropy(model(x[:, :-1]).reshape(-1, 4096), x[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        log(f"step {i}: {time.time() - t0:.3f}s for {args.batch * SEQ_LEN} tokens")


STAGES = {"corpus": stage_corpus, "bpe": stage_bpe, "train": stage_train, "export": stage_export,
          "golden": stage_golden, "bench": stage_bench}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("stages", nargs="*", default=["corpus", "bpe", "train", "export", "golden"],
                    help="stages to run, in order (default: all but bench)")
    ap.add_argument("--out", default=os.path.dirname(here), help="samples/ folder")
    ap.add_argument("--work", default="/tmp/zhinao-tiny-work", help="scratch folder (full corpus, checkpoints)")
    ap.add_argument("--steps", type=int, default=900, help="optimizer steps (ignored with --minutes)")
    ap.add_argument("--minutes", type=float, default=0,
                    help="train for this wall time instead of --steps (cosine schedule over the time)")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--min-lr", type=float, default=2e-4)
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--zh-repeat", type=int, default=4, help="times each training poem is repeated")
    ap.add_argument("--zh-bpe-weight", type=int, default=8, help="weight of poem text in BPE pair counts")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    for s in args.stages:
        log(f"== {s}")
        STAGES[s](args)


if __name__ == "__main__":
    main()
