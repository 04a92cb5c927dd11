#!/usr/bin/env python3
"""Scores a zq GPTQ export with Hugging Face transformers, dequantizing every Linear with AutoGPTQ's own
torch formula (auto_gptq/nn_modules/qlinear/qlinear_cuda_old.py, the g_idx path, v1 zeros + 1), so the bit
layout zq writes is checked by code that is not zq's. The checkpoint must be in Qwen2 layout
(`zq convert GPTQ_DIR -o OUT --to qwen2`). Prints and writes {ppl, tokens, windows}.

Usage: python3 samples/golden/check_gptq.py QWEN2_GPTQ_DIR OUT_JSON [--eval samples/data/eval.txt]
"""
import json, math, os, sys
import torch, transformers
from safetensors.torch import load_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_golden import zhinao_convert, zhinao_encoder  # noqa: E402


def autogptq_dequantize(qweight, qzeros, scales, g_idx, bits=4):
    wf = torch.tensor(list(range(0, 32, bits)), dtype=torch.int32).unsqueeze(0)
    zeros = torch.bitwise_right_shift(torch.unsqueeze(qzeros, 2).expand(-1, -1, 32 // bits), wf.unsqueeze(0)).to(torch.int8)
    zeros = zeros + 1
    zeros = torch.bitwise_and(zeros, (2 ** bits) - 1)
    zeros = zeros.reshape(zeros.shape[0], zeros.shape[1] * zeros.shape[2])
    weight = torch.bitwise_right_shift(torch.unsqueeze(qweight, 1).expand(-1, 32 // bits, -1), wf.unsqueeze(-1)).to(torch.int8)
    weight = torch.bitwise_and(weight, (2 ** bits) - 1)
    weight = weight.reshape(weight.shape[0] * weight.shape[1], weight.shape[2])
    return (scales[g_idx.long()].double() * (weight.double() - zeros[g_idx.long()].double())).t()  # [out, in]


def main():
    d, out = sys.argv[1], sys.argv[2]
    eval_file = sys.argv[sys.argv.index("--eval") + 1] if "--eval" in sys.argv else "samples/data/eval.txt"
    cfg = json.load(open(os.path.join(d, "config.json")))
    q = cfg.pop("quantization_config")
    assert q["checkpoint_format"] == "gptq" and q["bits"] == 4, q
    tensors = load_file(os.path.join(d, "model.safetensors"))
    sd = {}
    for name, t in tensors.items():
        if name.endswith(".qweight"):
            p = name[: -len(".qweight")]
            sd[p + ".weight"] = autogptq_dequantize(t, tensors[p + ".qzeros"], tensors[p + ".scales"], tensors[p + ".g_idx"])
        elif not name.endswith((".qzeros", ".scales", ".g_idx")):
            sd[name] = t.double()
    model = transformers.Qwen2ForCausalLM(transformers.Qwen2Config(**cfg)).double()
    missing, unexpected = model.load_state_dict(sd, strict=False)
    assert not unexpected and all("rotary" in m for m in missing), (missing, unexpected)
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    model = model.to(dev).eval()
    enc = zhinao_encoder("samples/zhinao-tiny")
    ids = enc.encode(zhinao_convert(open(eval_file, encoding="utf-8").read()), allowed_special="all")
    nll, count, windows = 0.0, 0, 0
    with torch.no_grad():
        for s in range(0, len(ids), 256):
            w = ids[s:s + 256]
            if len(w) < 2:
                continue
            x = torch.tensor([w], device=dev)
            lp = torch.log_softmax(model(x).logits[0].double()[:-1], dim=-1)
            nll -= lp.gather(1, x[0, 1:, None]).sum().item()
            count += len(w) - 1
            windows += 1
    res = {"ppl": math.exp(nll / count), "tokens": count, "windows": windows,
           "source": "transformers " + transformers.__version__ + " + AutoGPTQ cuda_old dequantization"}
    print(json.dumps(res))
    json.dump(res, open(out, "w"))


if __name__ == "__main__":
    main()
