"""Regenerate the bundled sample (``longrm_tasks/data/sample``) and its manifest entry.

See ``longrm_tasks.synthetic`` for the generator; the sha256 of the files it writes are recorded
as the ``bundled-sample`` release in ``longrm_tasks/data/manifests.json``.
"""

import json
import sys

from longrm_tasks.data import SAMPLE_DIR, load_local
from longrm_tasks.integrity import MANIFEST_PATH, load_manifests
from longrm_tasks.synthetic import main

if __name__ == "__main__":
    status = main(sys.argv[1:])
    if not status and "--out" not in sys.argv and "--scale" not in sys.argv:
        manifests = load_manifests()
        manifests["bundled-sample"] = load_local(SAMPLE_DIR).sha256
        MANIFEST_PATH.write_text(json.dumps(manifests, indent=2) + "\n")
        print(f"updated the bundled-sample entry of {MANIFEST_PATH.name}")
    raise SystemExit(status)
