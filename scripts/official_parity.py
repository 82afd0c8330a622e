"""Check parity with the official LongRM evaluator, running ITS code on the same data and outputs.

Needs a checkout of the official repository (https://github.com/LCM-Lab/LongRM, folder
``evaluate/``); nothing of it is copied here. Its optional imports (``fastchat``) are stubbed, and
its tokenizer calls get transformers-4 semantics (``apply_chat_template(tokenize=True)`` returning a
list of ids), as the official code expects.

Checks, for every row of every task file:
1. the official preprocess and ``longrm_tasks`` give the same rows in the same order, the same
   presentation orders (``shuffled_order``) and the same chat-templated judge prompt text, parity
   truncation (131,072+ tokens) included: the text ``longrm_tasks`` measures and sends (its renderer's,
   whose sha256 every document records);
2. the scalar-RM inputs (token ids per response, with the parity cut) are identical;
3. given judge outputs (an lm-eval ``--log_samples`` file of a ``longrewardbench*`` task), the
   official ``evaluate()`` writes the same figures (``results.csv``, rounded to 5 decimals) as the
   lm-eval results JSON next to the samples file.

    python scripts/official_parity.py --official-repo ../LongRM --data DIR --tokenizer TOKENIZER_DIR \\
        [--samples OUT/MODEL/samples_longrewardbench_*.jsonl]
"""

from __future__ import annotations

import argparse
import csv
import glob
import json
import sys
import tempfile
import types
from argparse import Namespace
from pathlib import Path

from longrm_tasks.constants import TASK_FILES, TASK_TYPES
from longrm_tasks.data import load_local
from longrm_tasks.items import reward_items
from longrm_tasks.rendering import Renderer
from longrm_tasks.rm.sequences import response_sequences
from longrm_tasks.run import JUDGE, prepare_run, settle_judge_docs

#: Official results.csv labels → our metric keys (the official file spells "Rank Avg,").
OFFICIAL_LABELS = {
    **{task: f"task_{task.lower()}" for task in TASK_FILES},
    "Same.": "same",
    "Diff.": "diff",
    "PairWise Avg.": "pairwise_avg",
    "Rank2": "rank2",
    "Rank3": "rank3",
    "Rank4": "rank4",
    "Rank Avg,": "bon_avg",
    **{bucket: f"len_{bucket}" for bucket in ("4k", "8k", "16k", "32k", "64k", "128k")},
    "AVG.": "avg",
}


def import_official(repo: Path) -> tuple[types.ModuleType, types.ModuleType]:
    """The official preprocess and evaluator modules, with ``fastchat`` stubbed."""
    conversation = types.ModuleType("fastchat.conversation")
    conversation.get_conv_template = lambda name: None  # only used for tokenizers without a template
    conversation.Conversation = type("Conversation", (), {})
    sys.modules.setdefault("fastchat", types.ModuleType("fastchat"))
    sys.modules.setdefault("fastchat.conversation", conversation)
    sys.path.insert(0, str(repo / "evaluate"))
    import evaluating.longreward_bench.evaluator as evaluator
    import evaluating.longreward_bench.preprocess as preprocess

    return preprocess, evaluator


def transformers4_semantics(tokenizer_class: type) -> None:
    """Make ``apply_chat_template(tokenize=True)`` return ids (a list or a tensor), as in transformers 4."""
    original = tokenizer_class.apply_chat_template
    if getattr(original, "_parity_patched", False):
        return

    def apply_chat_template(self, conversation, *args, **kwargs):
        if kwargs.get("tokenize", True):
            kwargs.setdefault("return_dict", False)
        return original(self, conversation, *args, **kwargs)

    apply_chat_template._parity_patched = True
    tokenizer_class.apply_chat_template = apply_chat_template


def check_prompts(
    preprocess: types.ModuleType, data_dir: Path, tokenizer_dir: str, tokenizer
) -> tuple[int, int]:
    """Rows, orders and prompt texts of the official preprocess vs ours; returns rows checked and how
    many of them were parity-cut."""
    options = {"data_dir": str(data_dir), "partial_data": True}  # any copy: the check is row by row
    prepared = prepare_run(JUDGE, options, formats=TASK_TYPES, sample=False)
    renderer = Renderer(tokenizer)
    ours, _ = settle_judge_docs(prepared.docs, renderer, prepared.options)
    official = []
    config = Namespace(
        data_path=str(data_dir), task_formats=["PairWise", "BestOfN"], model_path=tokenizer_dir
    )
    for task in TASK_FILES:
        for sample in preprocess.LongRewardBenchPreprocess.preprocess(task, config, Namespace()):
            if isinstance(sample, dict):
                official.append(sample)
    assert len(official) == len(ours), f"{len(official)} official rows vs {len(ours)} ours"
    for theirs, mine in zip(official, ours, strict=True):
        where = f"{mine['task_file']} row {mine['row_index']}"
        assert (theirs["subset"], theirs["index"]) == (mine["task_file"], mine["row_index"]), where
        assert theirs["shuffled_order"] == mine["order"], where
        prompt = renderer.render(mine["system_prompt"], mine["user_prompt"])
        assert theirs["input_text"] == prompt.text, f"{where}: prompt text differs"
        assert prompt.sha256() == mine["prompt_sha256"], f"{where}: the prompt sent is not the one measured"
    return len(ours), sum(doc["truncation"] != "none" for doc in ours)


def check_rm_inputs(preprocess: types.ModuleType, data_dir: Path, tokenizer_dir: str, tokenizer) -> int:
    """Scalar-RM token ids of the official preprocess vs ours; returns rows checked."""
    ours = reward_items(load_local(data_dir))
    config = Namespace(
        data_path=str(data_dir), task_formats=["PairWise", "BestOfN"], model_path=tokenizer_dir
    )
    official = [
        sample
        for task in TASK_FILES
        for sample in preprocess.LongRewardBenchDisRMPreprocess.preprocess(task, config, Namespace())
        if isinstance(sample, dict)
    ]
    for theirs, mine in zip(official, ours, strict=True):
        sequences, _ = response_sequences(tokenizer, mine.prompt_template, mine.slots)
        assert [tensor.flatten().tolist() for tensor in theirs["model_inputs"]] == sequences, mine.uid
        assert theirs["shuffled_order"] == mine.order, mine.uid
    return len(ours)


def check_scores(evaluator: types.ModuleType, samples_path: Path, tokenizer_dir: str) -> dict[str, tuple]:
    """Official ``evaluate()`` on the judge outputs of an lm-eval samples log vs lm-eval's results."""
    samples = [json.loads(line) for line in samples_path.read_text().splitlines()]
    results_path = Path(glob.glob(str(samples_path.parent / "results_*.json"))[-1])
    task = samples_path.name.split("_", 1)[1].rsplit("_", 1)[0]
    harness = json.loads(results_path.read_text())["results"][task]
    with tempfile.TemporaryDirectory() as folder:
        by_subset: dict[str, list[dict]] = {task: [] for task in TASK_FILES}
        for sample in samples:
            doc = sample["doc"]
            by_subset[doc["task_file"]].append(
                {
                    "output": sample["filtered_resps"][0],
                    "tasktype": doc["tasktype"],
                    "shuffled_order": doc["order"],
                    "subset": doc["task_file"],
                    "subtype": doc["subtype"],
                    "ctx_length": doc["length_bucket"],
                }
            )
        for subset, rows in by_subset.items():
            Path(folder, f"{subset}.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
        stub = Namespace(
            config=Namespace(model_name=tokenizer_dir),
            model_config=Namespace(model_path=tokenizer_dir),
            data_config=Namespace(),
            benchmark_config=Namespace(TASKS=list(TASK_FILES)),
            is_disrm=False,
        )
        evaluator.LongRewardBenchEvaluator.evaluate(stub, folder, folder)
        with open(Path(folder, "results.csv")) as handle:
            official = {row["Task"]: float(row["Value"]) for row in csv.DictReader(handle)}
    compared = {}
    for label, key in OFFICIAL_LABELS.items():
        ours = harness.get(f"{key},none")
        if ours is None:
            continue
        compared[key] = (official[label], round(ours, 5))
        assert official[label] == round(ours, 5), f"{key}: official {official[label]} vs lm-eval {ours}"
    return compared


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--official-repo", type=Path, required=True, help="checkout of LCM-Lab/LongRM")
    parser.add_argument("--data", type=Path, required=True, help="folder of the seven <Task>.jsonl files")
    parser.add_argument("--tokenizer", required=True, help="tokenizer folder (with a chat template)")
    parser.add_argument("--samples", type=Path, help="lm-eval samples_longrewardbench*.jsonl to re-score")
    args = parser.parse_args()
    from transformers import AutoTokenizer, PreTrainedTokenizerBase

    transformers4_semantics(PreTrainedTokenizerBase)
    preprocess, evaluator = import_official(args.official_repo)
    tokenizer = AutoTokenizer.from_pretrained(args.tokenizer)
    rows, cut = check_prompts(preprocess, args.data, args.tokenizer, tokenizer)
    print(f"prompts, orders: {rows} rows identical ({cut} of them parity-cut)")
    rm_rows = check_rm_inputs(preprocess, args.data, args.tokenizer, tokenizer)
    print(f"scalar-RM inputs: {rm_rows} rows identical")
    if args.samples:
        compared = check_scores(evaluator, args.samples, args.tokenizer)
        print(f"official evaluate() vs lm-eval: {len(compared)} figures identical (5 decimals)")
        for key, (official, ours) in compared.items():
            print(f"  {key:14s} official {official:.5f}  lm-eval {ours:.5f}")


if __name__ == "__main__":
    main()
