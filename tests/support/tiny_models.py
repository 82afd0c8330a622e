"""Tiny, locally built tokenizers and models for tests and benchmarks (no hub access needed).

- :func:`build_tokenizer`: a fast byte-level BPE trained on a few sentences, with ChatML special tokens
  and chat template (in memory).
- :func:`save_sample_tokenizer`: the same kind of tokenizer trained on the bundled sample's texts (plus
  single tokens for ``[[`` and ``]]``), saved to a folder.
- :func:`build_reward_model`: a random ``*ForSequenceClassification`` (one label: the reward), or with
  ``causal`` a random ``*ForCausalLM`` of the same shape (an implicit reward), saved.
- :func:`build_tiny_llama`: a tiny ``LlamaForCausalLM`` whose weights are random except for a programmed
  path: attention and MLP outputs are zeroed (the last token's embedding alone decides the next token)
  and a bigram chain makes it answer every chat prompt with ``reply`` followed by EOS. A purely random
  model never stops early: 62 samples x 2,048 greedy tokens take ~10 minutes on 2 CPU cores; this one
  answers in seconds, and predictably.
- :func:`plain_rewards`: spec §5 by hand, for checking reward models.

Deterministic for a given seed.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "longrm_tasks" / "data" / "sample"

CHATML_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
#: Single tokens, so that a verdict such as ``[[A]]`` is a chain of distinct tokens.
VERDICT_TOKENS = ["[[", "]]"]
_CORPUS = [
    "The committee met in the harbour town and recorded every decision in its minutes.",
    "Assistant A answered the question correctly, while assistant B made an error.",
    "def tail(items, n):\n    return items[-n:]\n",
    "Rank the responses: [[A>B>C>D]] or choose [[A]] or [[B]].",
    "0123456789 + - * / = ( ) [ ] { } < > : ; , . ! ? ' \" #",
]


def sample_texts() -> list[str]:
    """Every string of the bundled sample (training text for the sample tokenizer)."""
    texts: list[str] = []
    for path in sorted(SAMPLE_DIR.glob("*.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            row = json.loads(line)
            texts += [message["content"] for message in row["prompt_template"]]
            texts += [row.get("chosen") or "", row.get("rejected") or "", *(row.get("candidates") or [])]
    texts.append("[User Question] [The Start of Assistant A's Answer] [[A]] [[B]] [[A>B>C>D]] [Analysis]")
    return [text for text in texts if text]


def _chatml_tokenizer(
    texts: list[str], vocab_size: int, pad_token: str, extra_tokens: list[str], **settings: Any
) -> Any:
    """A byte-level BPE trained on ``texts``, wrapped with the ChatML special tokens and template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    specials = SPECIAL_TOKENS + ([pad_token] if pad_token not in SPECIAL_TOKENS else [])
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    if extra_tokens:
        tokenizer.add_tokens(extra_tokens)
    wrapped = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token="<|endoftext|>",
        eos_token="<|im_end|>",
        pad_token=pad_token,
        unk_token="<|endoftext|>",
        **settings,
    )
    wrapped.chat_template = CHATML_TEMPLATE
    return wrapped


def build_tokenizer(vocab_size: int = 512) -> Any:
    """A fast byte-level BPE tokenizer with ChatML special tokens and chat template (in memory)."""
    return _chatml_tokenizer(_CORPUS * 20, vocab_size, "<pad>", [])


def save_sample_tokenizer(folder: Path, vocab_size: int = 800) -> Path:
    """Train the ChatML tokenizer on the bundled sample's texts and save it in ``folder``."""
    wrapped = _chatml_tokenizer(
        sample_texts(),
        vocab_size,
        "<|endoftext|>",
        VERDICT_TOKENS,
        model_max_length=1_000_000,
        model_input_names=["input_ids", "attention_mask"],
    )
    folder.mkdir(parents=True, exist_ok=True)
    wrapped.save_pretrained(folder)
    return folder


def build_reward_model(
    out_dir: str | Path,
    architecture: str = "llama",
    *,
    hidden_size: int = 64,
    layers: int = 2,
    max_positions: int = 32_768,
    seed: int = 0,
    tokenizer: Any = None,
    causal: bool = False,
) -> Path:
    """Save a random ``*ForSequenceClassification`` (one label) with a tiny tokenizer to ``out_dir``;
    with ``causal``, a random ``*ForCausalLM`` of the same shape (an implicit reward model)."""
    import torch
    from transformers import (
        LlamaConfig,
        LlamaForCausalLM,
        LlamaForSequenceClassification,
        Qwen2Config,
        Qwen2ForCausalLM,
        Qwen2ForSequenceClassification,
    )

    tokenizer = tokenizer if tokenizer is not None else build_tokenizer()
    common = {
        "vocab_size": len(tokenizer),
        "hidden_size": hidden_size,
        "intermediate_size": hidden_size * 2,
        "num_hidden_layers": layers,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "max_position_embeddings": max_positions,
        "num_labels": 1,
        "pad_token_id": tokenizer.pad_token_id,
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
    }
    classes = {
        "llama": (LlamaConfig, LlamaForCausalLM if causal else LlamaForSequenceClassification),
        "qwen2": (Qwen2Config, Qwen2ForCausalLM if causal else Qwen2ForSequenceClassification),
    }
    config_class, model_class = classes[architecture]
    torch.manual_seed(seed)
    model = model_class(config_class(**common)).eval()
    out = Path(out_dir)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def build_tiny_reward_model(folder: Path, seed: int = 0) -> Path:
    """A random tiny ``LlamaForSequenceClassification`` with the sample tokenizer, saved in ``folder``."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(save_sample_tokenizer(folder))
    return build_reward_model(folder, max_positions=8192, seed=seed, tokenizer=tokenizer)


def build_tiny_llama(folder: Path, reply: str = "[[A]]", max_positions: int = 8192, seed: int = 0) -> Path:
    """A tiny Llama chat model that answers ``reply`` to any chat prompt, saved in ``folder``."""
    import torch
    from transformers import AutoTokenizer, GenerationConfig, LlamaConfig, LlamaForCausalLM

    save_sample_tokenizer(folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=max_positions,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=False,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    prompt = tokenizer.apply_chat_template(
        [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}],
        tokenize=False,
        add_generation_prompt=True,
    )
    start = tokenizer(prompt, add_special_tokens=False)["input_ids"][-1]
    chain = [start, *tokenizer(reply, add_special_tokens=False)["input_ids"], tokenizer.eos_token_id]
    if len(set(chain)) != len(chain) or len(chain) > config.hidden_size:
        raise ValueError(f"reply {reply!r} does not give a chain of distinct tokens: {chain}")
    with torch.no_grad():
        for layer in model.model.layers:
            layer.self_attn.o_proj.weight.zero_()
            layer.mlp.down_proj.weight.zero_()
        model.model.embed_tokens.weight.zero_()
        model.lm_head.weight.zero_()
        for dim, (current, following) in enumerate(itertools.pairwise(chain)):
            model.model.embed_tokens.weight[current, dim] = 1.0
            model.lm_head.weight[following, dim] = 10.0
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        do_sample=False,
    )
    model.save_pretrained(folder)
    return folder


def plain_rewards(folder: Path, rows: list[tuple[list[dict[str, str]], list[str]]]) -> list[list[float]]:
    """Spec §5 by hand, per ``(prompt_template, slots)``: each response alone, chat template without
    generation prompt, first logit of the classifier."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    results = []
    for prompt_template, slots in rows:
        rewards = []
        for response in slots:
            text = tokenizer.apply_chat_template(
                [*prompt_template, {"role": "assistant", "content": response}],
                tokenize=False,
                add_generation_prompt=False,
            )
            ids = tokenizer(text, add_special_tokens=False, return_tensors="pt")["input_ids"]
            with torch.no_grad():
                rewards.append(float(model(input_ids=ids).logits[0, 0]))
        results.append(rewards)
    return results
