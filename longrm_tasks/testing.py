"""Tiny, locally built models for tests, benchmarks and offline demos (no hub access needed).

A byte-level BPE tokenizer is trained on a few sentences and given a ChatML chat template; models
are randomly initialised from small configs. Deterministic for a given seed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

CHATML_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
_CORPUS = [
    "The committee met in the harbour town and recorded every decision in its minutes.",
    "Assistant A answered the question correctly, while assistant B made an error.",
    "def tail(items, n):\n    return items[-n:]\n",
    "Rank the responses: [[A>B>C>D]] or choose [[A]] or [[B]].",
    "0123456789 + - * / = ( ) [ ] { } < > : ; , . ! ? ' \" #",
]


def build_tokenizer(vocab_size: int = 512) -> Any:
    """A fast byte-level BPE tokenizer with ChatML special tokens and chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<pad>"]
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(_CORPUS * 20, trainer=trainer)
    wrapped = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token="<|endoftext|>",
        eos_token="<|im_end|>",
        pad_token="<pad>",
        unk_token="<|endoftext|>",
    )
    wrapped.chat_template = CHATML_TEMPLATE
    return wrapped


def build_reward_model(
    out_dir: str | Path,
    architecture: str = "llama",
    *,
    hidden_size: int = 64,
    layers: int = 2,
    max_positions: int = 32_768,
    seed: int = 0,
) -> Path:
    """Save a random ``*ForSequenceClassification`` (one label) with the tiny tokenizer to ``out_dir``."""
    import torch
    from transformers import (
        LlamaConfig,
        LlamaForSequenceClassification,
        Qwen2Config,
        Qwen2ForSequenceClassification,
    )

    tokenizer = build_tokenizer()
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
        "llama": (LlamaConfig, LlamaForSequenceClassification),
        "qwen2": (Qwen2Config, Qwen2ForSequenceClassification),
    }
    config_class, model_class = classes[architecture]
    torch.manual_seed(seed)
    model = model_class(config_class(**common)).eval()
    out = Path(out_dir)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
