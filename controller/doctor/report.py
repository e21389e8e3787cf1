"""What `psctl doctor` prints: each hop's status from the findings on it, the chain as a picture
(one line per hop with its resource and a mark), then each finding (what, why, fix), or the
contract's JSON document.

A hop's status is the worst thing on it: an error finding makes it `problem` (✗), a warning
`warning` (!), something doctor could not read `unknown` (?), else `ok` (✓). A finding names its
hop kind and a resource (a task's security group, say) that is often not the hop's own id: it
counts on the hop of that kind whose resource it names, or, when it names none of them, on every
hop of that kind (a branch is never shown healthy by guesswork). The fix shown is the spec change
for a chain a spec owns, the AWS CLI command otherwise. Colour only on a terminal without
NO_COLOR (https://no-color.org). Neighbours: `model` (Finding, HopRef, Unknown), `facts`,
`controller.cli_doctor` (the command).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from controller.doctor.facts import Facts
from controller.doctor.model import Finding, HopRef, Status, Unknown

MARKS: dict[Status, str] = {"ok": "✓", "warning": "!", "problem": "✗", "unknown": "?"}
COLOURS: dict[Status, str] = {"ok": "32", "warning": "33", "problem": "31", "unknown": "35"}
RANK: dict[Status, int] = {"ok": 0, "unknown": 1, "warning": 2, "problem": 3}


@dataclass
class Diagnosis:
    """One chain: what was read, what is wrong, and whether it could be read at all."""

    facts: Facts
    findings: list[Finding]
    notes: dict[HopRef, str] = field(default_factory=dict)
    """A line of facts under a hop in the text picture (the service's counts, say)."""

    @property
    def errors(self) -> int:
        """Findings of severity error."""
        return sum(f.severity == "error" for f in self.findings)

    @property
    def healthy(self) -> bool:
        """No error, and nothing left unread."""
        return self.errors == 0 and not self.facts.unknown

    def fix(self, f: Finding) -> str:
        """The spec change for a chain we own, else the AWS CLI command (the other as a
        fallback when a check left one empty)."""
        first, other = (f.fix_spec, f.fix_cli) if self.facts.owned else (f.fix_cli, f.fix_spec)
        return first or other


def _on(hop: HopRef, hops: list[HopRef], kind: str, resource: str) -> bool:
    """Whether something on (`kind`, `resource`) counts on `hop`."""
    if hop.hop != kind:
        return False
    if hop.resource == resource:
        return True
    return not any(h.hop == kind and h.resource == resource for h in hops)


def hop_status(
    hop: HopRef, hops: list[HopRef], findings: list[Finding], unknown: list[Unknown]
) -> Status:
    """The worst of the findings and unreadable things on `hop`."""
    status: Status = "ok"
    for u in unknown:
        if _on(hop, hops, u.hop, u.resource) and RANK["unknown"] > RANK[status]:
            status = "unknown"
    for f in findings:
        if _on(hop, hops, f.hop, f.resource):
            mark: Status = "problem" if f.severity == "error" else "warning"
            if RANK[mark] > RANK[status]:
                status = mark
    return status


def statuses(d: Diagnosis) -> list[tuple[HopRef, Status]]:
    """Each hop of the chain with its status, in request order."""
    hops = d.facts.hops
    return [(h, hop_status(h, hops, d.findings, d.facts.unknown)) for h in hops]


def short(resource: str) -> str:
    """An ARN's resource part (`loadbalancer/net/name/id`), anything else as it is."""
    if resource.startswith("arn:"):
        parts = resource.split(":", 5)
        if len(parts) == 6:
            return parts[5]
    return resource


# ---------------------------------------------------------------------------- JSON
def to_json(ds: list[Diagnosis], *, verbose: bool = False) -> dict[str, Any]:
    """The contract's document: {"chains": [{target, healthy, hops, findings}]}, each finding
    with `why` besides the contract's fields; what could not be read under `unknown`, and with
    `verbose` the AWS calls per operation under `calls`."""
    chains = []
    for d in ds:
        chain: dict[str, Any] = {
            "target": d.facts.target,
            "healthy": d.healthy,
            "hops": [{"hop": h.hop, "resource": h.resource, "status": s} for h, s in statuses(d)],
            "findings": [
                {
                    "code": f.code,
                    "severity": f.severity,
                    "hop": f.hop,
                    "resource": f.resource,
                    "message": f.message,
                    "why": f.why,
                    "fix": d.fix(f),
                }
                for f in d.findings
            ],
            "unknown": [
                {
                    "hop": u.hop,
                    "resource": u.resource,
                    "call": u.call,
                    "permission": u.permission,
                    "message": u.message,
                }
                for u in d.facts.unknown
            ],
        }
        if verbose:
            chain["calls"] = dict(sorted(d.facts.calls.items()))
        chains.append(chain)
    return {"chains": chains}


# ---------------------------------------------------------------------------- text
class _Paint:
    def __init__(self, colour: bool) -> None:
        self.colour = colour

    def __call__(self, status: Status, text: str) -> str:
        return f"\033[{COLOURS[status]}m{text}\033[0m" if self.colour else text

    def bold(self, text: str) -> str:
        return f"\033[1m{text}\033[0m" if self.colour else text


def _summary(d: Diagnosis) -> str:
    counts = Counter(f.severity for f in d.findings)
    parts = [f"{counts[s]} {s}{'s' if counts[s] != 1 else ''}" for s in ("error", "warning")]
    if d.facts.unknown:
        parts.append(f"{len(d.facts.unknown)} unreadable")
    said = [p for p in parts if not p.startswith("0 ")]
    return ", ".join((["healthy"] if d.healthy else []) + said)


def _hop_lines(rows: list[tuple[str, str, Status, str | None]], paint: _Paint) -> list[str]:
    """The picture: one line per hop (hop, resource, status, note under it)."""
    out: list[str] = []
    width = max((len(hop) for hop, *_ in rows), default=0)
    for i, (hop, resource, s, note) in enumerate(rows):
        last = i == len(rows) - 1
        arrow = "└─" if last else "├─"
        out.append(f"  {arrow} {paint(s, MARKS[s])} {hop:<{width}}  {short(resource)}")
        if note:
            out.append(f"  {' ' if last else '│'}    {'':<{width}}  {note}")
    return out


def picture(chain: Mapping[str, Any], *, colour: bool = False) -> list[str]:
    """The picture of one chain from its JSON (`to_json`'s chain, or the `diagnosis` a
    controller keeps in a status, whose hops may carry a `note`): what `psctl status` shows."""
    rows: list[tuple[str, str, Status, str | None]] = []
    for h in chain.get("hops", []):
        s = h.get("status")
        rows.append(
            (str(h["hop"]), str(h["resource"]), s if s in MARKS else "unknown", h.get("note"))
        )
    return _hop_lines(rows, _Paint(colour))


def to_text(ds: list[Diagnosis], *, colour: bool = False, verbose: bool = False) -> str:
    """The picture of each chain, then its findings, unreadable reads and (verbose) calls."""
    paint = _Paint(colour)
    out: list[str] = []
    for d in ds:
        out.append(paint.bold(f"{d.facts.target}: {_summary(d)}"))
        rows = [(h.hop, h.resource, s, d.notes.get(h)) for h, s in statuses(d)]
        out += _hop_lines(rows, paint)
        for f in d.findings:
            mark: Status = "problem" if f.severity == "error" else "warning"
            out.append("")
            out.append(
                f"  {paint(mark, MARKS[mark])} {paint.bold(f.code)} [{f.severity}] "
                f"on {f.hop} {short(f.resource)}"
            )
            out.append(f"    what: {f.message}")
            out.append(f"    why:  {f.why}")
            out.append(f"    fix:  {d.fix(f)}")
        for u in d.facts.unknown:
            out.append("")
            out.append(
                f"  {paint('unknown', MARKS['unknown'])} {u.hop} {short(u.resource)}: "
                f"{u.call} was denied; add {u.permission} to diagnose it"
            )
        if verbose:
            total = sum(d.facts.calls.values())
            out.append("")
            out.append(f"  AWS calls: {total}")
            out += [f"    {n:>4}  {call}" for call, n in sorted(d.facts.calls.items())]
        out.append("")
    return "\n".join(out).rstrip("\n")


def diagnosis_lines(diagnosis: Mapping[str, Any], *, colour: bool = False) -> list[str]:
    """A status's `diagnosis` under the status in `psctl status`: when and why it ran, its
    verdict, the picture, and the errors' codes (or why the chain could not be read)."""
    head = f"  chain (psctl doctor at {diagnosis.get('at', '?')}, {diagnosis.get('trigger', '?')})"
    if "error" in diagnosis:
        return [f"{head}: not diagnosed: {diagnosis['error']}"]
    findings = list(diagnosis.get("findings", []))
    errors = [f for f in findings if f.get("severity") == "error"]
    verdict = "healthy" if diagnosis.get("healthy") else f"{len(errors)} error(s)"
    lines = [f"{head}: {verdict}, {len(findings) - len(errors)} warning(s)"]
    lines += ["  " + line for line in picture(diagnosis, colour=colour)]
    lines += [f"    {f['code']} on {f['hop']} {short(str(f['resource']))}" for f in findings]
    return lines
