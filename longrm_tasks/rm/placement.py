"""Where a scalar reward model's weights go: one device per process, or one model over many devices.

Data parallel (several processes): process ``LOCAL_RANK`` uses ``cuda:LOCAL_RANK``. A model too large
for one device is split layer-wise by ``device_map="auto"`` (accelerate), optionally capped per device
by ``max_memory``; then it stays where accelerate put it (no ``.to(device)``). A split model per
process only makes sense with one process per node: otherwise every copy would claim every GPU.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import LongRMError
from .sharding import ProcessGroup

_MEMORY = re.compile(r"\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)", re.IGNORECASE)


class PlacementError(LongRMError):
    """Model placement arguments that cannot work."""


@dataclass(frozen=True)
class Placement:
    """``from_pretrained`` keyword arguments, and the device to move the model to (``None``: keep)."""

    load_kwargs: dict[str, Any] = field(default_factory=dict)
    move_to: str | None = None

    def apply(self, model: Any) -> Any:
        """``model`` on its device (unless accelerate placed it), in eval mode."""
        return (model if self.move_to is None else model.to(self.move_to)).eval()


def parse_max_memory(text: str) -> dict[int | str, str]:
    """``"0:70GiB;1:70GiB;cpu:200GiB"`` → accelerate's ``max_memory`` (``;`` because lm-eval's
    ``model_args`` are comma-separated). A bare size (``"70GiB"``) is not accepted: name the devices."""
    result: dict[int | str, str] = {}
    for part in filter(None, (piece.strip() for piece in str(text).split(";"))):
        device, sep, size = (piece.strip() for piece in part.partition(":"))
        if not sep or not _MEMORY.fullmatch(size):
            raise PlacementError(
                f"max_memory: {part!r} is not DEVICE:SIZE (e.g. max_memory=0:70GiB;1:70GiB;cpu:200GiB)"
            )
        if device.isdigit():
            result[int(device)] = size
        elif device in ("cpu", "disk", "mps"):
            result[device] = size
        else:
            raise PlacementError(f"max_memory: unknown device {device!r} in {part!r} (GPU index, cpu, disk)")
    if not result:
        raise PlacementError("max_memory is empty (e.g. max_memory=0:70GiB;1:70GiB;cpu:200GiB)")
    return result


def place_model(
    device: str,
    group: ProcessGroup,
    device_map: str | dict[str, Any] | None = None,
    max_memory: str | dict[int | str, str] | None = None,
) -> Placement:
    """The placement of one process's copy of the model (``device``: cpu, cuda or cuda:N)."""
    if max_memory is not None and device_map is None:
        raise PlacementError("max_memory needs device_map (e.g. device_map=auto)")
    if device_map is not None:
        if group.local_world_size > 1:
            raise PlacementError(
                f"device_map={device_map} with {group.local_world_size} processes on this node would put "
                "every copy on every GPU: run one process per node, or drop device_map"
            )
        kwargs: dict[str, Any] = {"device_map": device_map}
        if max_memory is not None:
            kwargs["max_memory"] = parse_max_memory(max_memory) if isinstance(max_memory, str) else max_memory
        return Placement(load_kwargs=kwargs, move_to=None)
    if group.world_size > 1 and device == "cuda":
        device = f"cuda:{group.local_rank}"
    return Placement(move_to=device)
