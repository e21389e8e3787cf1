"""A directory source with hostile files next to good ones (issue 11, item 2): a 5,000-deep
document, an alias bomb, an over-long integer, bytes that are not UTF-8. Each poll returns (fast)
with them as invalid documents naming file and line, and edits to the other specs still arrive."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from controller.sources import DirectorySource

Doc = Callable[..., str]

BOMB = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8)
)


async def test_hostile_files_do_not_stop_edits_to_the_other_specs(tmp_path: Path, doc: Doc) -> None:
    """Two good specs and four hostile files: both specs load, each hostile file is one invalid
    document with its file (and line), and an edit to a good spec shows in the next poll."""
    (tmp_path / "orders.yaml").write_text(doc("orders"))
    (tmp_path / "billing.yaml").write_text(doc("billing"))
    (tmp_path / "deep.yaml").write_text("a: " + "[" * 5000 + "]" * 5000 + "\n")
    (tmp_path / "deep-block.yaml").write_text(
        "".join("  " * i + f"k{i}:\n" for i in range(5000))[: 1024 * 1024 - 1]
    )
    (tmp_path / "bomb.yaml").write_text(BOMB)
    (tmp_path / "int.yaml").write_text("spec: " + "7" * 5000 + "\n")
    (tmp_path / "latin1.yaml").write_bytes(b"name: caf\xe9\n")
    source = DirectorySource(tmp_path)

    started = time.monotonic()
    snap = await source.snapshot()
    assert time.monotonic() - started < 5.0
    assert sorted(snap.specs) == ["shop/billing", "shop/orders"]
    problems = {Path(i.location.split("#")[0]).name: i.problems for i in snap.invalid}
    assert sorted(problems) == [
        "bomb.yaml",
        "deep-block.yaml",
        "deep.yaml",
        "int.yaml",
        "latin1.yaml",
    ]
    assert problems["deep.yaml"] == (f"{tmp_path}/deep.yaml:1: nested more than 64 levels deep",)
    assert problems["deep-block.yaml"][0].startswith(f"{tmp_path}/deep-block.yaml:65: nested")
    assert problems["bomb.yaml"][0].startswith(f"{tmp_path}/bomb.yaml:6: too many nodes")
    assert "integer with too many digits" in problems["int.yaml"][0]
    assert "not UTF-8" in problems["latin1.yaml"][0]

    orders = tmp_path / "orders.yaml"
    orders.write_text(doc("orders", image="nginx:1.28"))
    st = orders.stat()
    os.utime(orders, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    again = await source.snapshot()
    assert again.specs["shop/orders"].spec.container.image == "nginx:1.28"
    assert len(again.invalid) == 5
