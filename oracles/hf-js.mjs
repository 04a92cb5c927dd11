// Test oracle: Hugging Face's JavaScript tokenizer and Jinja implementations, run by zq's Java tests.
// Reads one JSON request on stdin, writes one JSON answer on stdout:
//   {"tokenizer": "path/tokenizer.json", "config": "path/tokenizer_config.json",
//    "texts": ["..."]}                                 -> {"encoded": [{"ids": [...], "decoded": "...", "decodedSkip": "..."}]}
//   {"tokenizer": ..., "config": ..., "conversations": [[{"role": "user", "content": "..."}], ...],
//    "addGenerationPrompt": false}                    -> {"chats": [{"text": "...", "ids": [...]}]}
// The chat template is the config's chat_template, rendered by @huggingface/jinja as transformers'
// apply_chat_template renders it (messages, add_generation_prompt and the config's special tokens).
import { readFileSync } from "node:fs";
import { Tokenizer } from "@huggingface/tokenizers";
import { Template } from "@huggingface/jinja";

const request = JSON.parse(readFileSync(0, "utf8"));
const tokenizerJson = JSON.parse(readFileSync(request.tokenizer, "utf8"));
const config = request.config ? JSON.parse(readFileSync(request.config, "utf8")) : {};
const tokenizer = new Tokenizer(tokenizerJson, config);
const answer = {};

if (request.texts) {
  answer.encoded = request.texts.map((text) => {
    const ids = tokenizer.encode(text, { add_special_tokens: false }).ids;
    // tokenizers.js refuses to decode an empty list; the empty text's decoding is ""
    const decode = (skip) => (ids.length ? tokenizer.decode(ids, { skip_special_tokens: skip }) : "");
    return { ids, decoded: decode(false), decodedSkip: decode(true) };
  });
}
if (request.conversations) {
  const template = new Template(config.chat_template);
  answer.chats = request.conversations.map((messages) => {
    const text = template.render({
      messages,
      add_generation_prompt: !!request.addGenerationPrompt,
      bos_token: config.bos_token ?? "",
      eos_token: config.eos_token ?? "",
      pad_token: config.pad_token ?? "",
      unk_token: config.unk_token ?? "",
    });
    return { text, ids: tokenizer.encode(text, { add_special_tokens: false }).ids };
  });
}
process.stdout.write(JSON.stringify(answer));
