"""Loading the benchmark (spec §1): local folders, the sample, the hub (offline), checksums."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from longrm_tasks import data as data_module
from longrm_tasks.data import load_benchmark, load_hub, load_local, load_sample, read_task_file
from longrm_tasks.errors import DataSourceError, RowValidationError

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "longrm_tasks" / "data" / "sample"
# Canonical task order, spec §1.
CANONICAL = ["LongQA", "Summ", "Safety", "ICL", "Cite", "Code", "Math"]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def line_count(path: Path) -> int:
    return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


@pytest.fixture
def folder(tmp_path):
    """A copy of the sample as a local dataset folder."""
    target = tmp_path / "bench"
    shutil.copytree(SAMPLE_DIR, target)
    return target


@pytest.fixture
def other_folder(tmp_path):
    """A second, different dataset folder: Cite.jsonl keeps only its first three rows."""
    target = tmp_path / "other"
    shutil.copytree(SAMPLE_DIR, target)
    cite = target / "Cite.jsonl"
    cite.write_text("\n".join(cite.read_text(encoding="utf-8").splitlines()[:3]) + "\n", encoding="utf-8")
    return target


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No network: hub offline mode (env and the already-imported constant), empty cache."""
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.delenv("LONGRM_DATA_DIR", raising=False)


def test_sample_files_and_order():
    sample = load_sample()
    assert list(sample.rows) == CANONICAL
    for task in CANONICAL:
        path = SAMPLE_DIR / f"{task}.jsonl"
        assert len(sample.rows[task]) == line_count(path)
        assert sample.sha256[f"{task}.jsonl"] == sha(path)


def test_read_task_file_rows_and_sha(folder):
    path = folder / "Cite.jsonl"
    rows, digest = read_task_file(path)
    assert digest == sha(path)
    expected = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert [row["id"] for row in rows] == [row["id"] for row in expected]  # file order kept
    assert [row["tasktype"] for row in rows] == [row["tasktype"] for row in expected]


def test_read_task_file_without_trailing_newline(folder):
    path = folder / "Math.jsonl"
    path.write_bytes(path.read_bytes().rstrip(b"\n"))
    rows, digest = read_task_file(path)
    assert len(rows) == line_count(path)
    assert digest == sha(path)  # the hash is of the bytes as they are on disk


def test_load_local_records_sha_of_every_file(folder):
    loaded = load_local(folder)
    assert list(loaded.rows) == CANONICAL
    assert loaded.sha256 == {f"{task}.jsonl": sha(folder / f"{task}.jsonl") for task in CANONICAL}
    provenance = loaded.provenance()
    assert provenance["files_sha256"] == loaded.sha256
    assert provenance["rows"] == {task: line_count(folder / f"{task}.jsonl") for task in CANONICAL}


def test_load_local_subset_of_files(folder):
    loaded = load_local(folder, task_files=["Math", "Cite"])
    assert list(loaded.rows) == ["Math", "Cite"]
    assert set(loaded.sha256) == {"Math.jsonl", "Cite.jsonl"}


@pytest.mark.parametrize("missing", [["Math"], ["LongQA"], ["Summ", "Code"]])
def test_load_local_missing_file(folder, missing):
    for task in missing:
        (folder / f"{task}.jsonl").unlink()
    with pytest.raises(DataSourceError) as info:
        load_local(folder)
    for task in missing:
        assert f"{task}.jsonl" in str(info.value)


def test_load_local_missing_folder(tmp_path):
    with pytest.raises(DataSourceError) as info:
        load_local(tmp_path / "nowhere")
    assert "nowhere" in str(info.value)


def test_load_local_broken_file_names_it(folder):
    path = folder / "Safety.jsonl"
    lines = path.read_bytes().splitlines()
    lines[1] = b'{"id": 1'
    path.write_bytes(b"\n".join(lines) + b"\n")
    with pytest.raises(RowValidationError) as info:
        load_local(folder)
    assert info.value.row == 1
    assert "Safety.jsonl" in str(info.value)


def test_load_hub_offline_gives_one_line_advice(offline):
    with pytest.raises(DataSourceError) as info:
        load_hub()
    message = str(info.value)
    assert "\n" not in message
    assert "data_dir" in message
    assert "LONGRM_DATA_DIR" in message


def test_load_benchmark_without_source_goes_to_hub(offline):
    with pytest.raises(DataSourceError) as info:
        load_benchmark()
    assert "LONGRM_DATA_DIR" in str(info.value)
    assert "\n" not in str(info.value)


def test_load_benchmark_data_dir(offline, folder):
    loaded = load_benchmark(data_dir=folder)
    assert loaded.sha256["Cite.jsonl"] == sha(folder / "Cite.jsonl")
    assert len(loaded.rows["Cite"]) == line_count(folder / "Cite.jsonl")


def test_load_benchmark_env(offline, monkeypatch, other_folder):
    monkeypatch.setenv("LONGRM_DATA_DIR", str(other_folder))
    loaded = load_benchmark()
    assert len(loaded.rows["Cite"]) == 3
    assert loaded.sha256["Cite.jsonl"] == sha(other_folder / "Cite.jsonl")


def test_load_benchmark_data_dir_beats_env(offline, monkeypatch, folder, other_folder):
    monkeypatch.setenv("LONGRM_DATA_DIR", str(other_folder))
    loaded = load_benchmark(data_dir=folder)
    assert loaded.sha256["Cite.jsonl"] == sha(folder / "Cite.jsonl")
    assert loaded.sha256["Cite.jsonl"] != sha(other_folder / "Cite.jsonl")


def test_load_benchmark_env_to_missing_folder_does_not_fall_back(offline, monkeypatch, tmp_path):
    monkeypatch.setenv("LONGRM_DATA_DIR", str(tmp_path / "absent"))
    with pytest.raises(DataSourceError) as info:
        load_benchmark()
    assert "absent" in str(info.value)


def test_load_benchmark_sample(offline):
    loaded = load_benchmark(sample=True)
    assert list(loaded.rows) == CANONICAL
    assert loaded.sha256 == load_sample().sha256


def test_env_variable_name():
    assert data_module.DATA_DIR_ENV == "LONGRM_DATA_DIR"
