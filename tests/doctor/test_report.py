"""doctor's report on hand-built facts: a hop's status is the worst thing on it, branches are
marked apart, the fix follows ownership, the JSON is the contract's, colour only when asked."""

from __future__ import annotations

import io

import pytest

from controller import cli_doctor
from controller.doctor import report
from controller.doctor.facts import Facts
from controller.doctor.model import Finding, HopRef, Unknown, finding
from controller.doctor.report import Diagnosis, short, statuses, to_json, to_text

TG_A = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/a/1"
TG_B = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/b/2"


def _facts(*, owned: bool = False, unknown: list[Unknown] | None = None) -> Facts:
    facts = Facts(target="rest-api/abc", owned=owned, unknown=unknown or [])
    facts.hops = [
        HopRef("api", "abc"),
        HopRef("nlb-target-group", TG_A),
        HopRef("nlb-target-group", TG_B),
        HopRef("tasks", "arn:aws:ecs:us-east-1:1:task-definition/app:3"),
    ]
    facts.calls.update({"elbv2:DescribeTargetHealth": 2})
    return facts


def _finding(code: str, hop: str, resource: str) -> Finding:
    return finding(code, hop, resource, "what", why="why", fix_spec="SPEC", fix_cli="CLI")


def _marks(d: Diagnosis) -> list[str]:
    return [s for _, s in statuses(d)]


@pytest.mark.parametrize(
    ("findings", "unknown", "expected"),
    [
        pytest.param([], [], ["ok", "ok", "ok", "ok"], id="nothing: all ok"),
        pytest.param(
            [_finding("health-check-blocked", "tasks", "sg-1")],
            [],
            ["ok", "ok", "ok", "problem"],
            id="an error on a resource that is not the hop's id still marks its hop",
        ),
        pytest.param(
            [_finding("deregistration-delay-long", "nlb-target-group", TG_B)],
            [],
            ["ok", "ok", "warning", "ok"],
            id="a warning naming one branch marks that branch only",
        ),
        pytest.param(
            [_finding("no-healthy-targets", "nlb-target-group", "tg-elsewhere")],
            [],
            ["ok", "problem", "problem", "ok"],
            id="naming no branch marks every branch of the kind",
        ),
        pytest.param(
            [],
            [Unknown("nlb-target-group", TG_A, "elbv2:DescribeTargetHealth", "p")],
            ["ok", "unknown", "ok", "ok"],
            id="an unreadable hop is unknown, never ok",
        ),
        pytest.param(
            [_finding("deregistration-delay-long", "nlb-target-group", TG_A)],
            [Unknown("nlb-target-group", TG_A, "elbv2:DescribeTargetHealth", "p")],
            ["ok", "warning", "ok", "ok"],
            id="a warning outranks unknown",
        ),
        pytest.param(
            [
                _finding("deregistration-delay-long", "nlb-target-group", TG_A),
                _finding("no-healthy-targets", "nlb-target-group", TG_A),
            ],
            [],
            ["ok", "problem", "ok", "ok"],
            id="an error outranks a warning",
        ),
    ],
)
def test_a_hop_shows_the_worst_thing_on_it(
    findings: list[Finding], unknown: list[Unknown], expected: list[str]
) -> None:
    """error -> problem, warning -> warning, unreadable -> unknown, else ok."""
    assert _marks(Diagnosis(_facts(unknown=unknown), findings)) == expected


@pytest.mark.parametrize(("owned", "fix"), [(True, "SPEC"), (False, "CLI")])
def test_the_fix_is_the_spec_change_for_a_chain_we_own(owned: bool, fix: str) -> None:
    """Owned chain: fix_spec; any other: the AWS CLI command."""
    d = Diagnosis(_facts(owned=owned), [_finding("traffic-blocked", "tasks", "sg-1")])
    assert to_json([d])["chains"][0]["findings"][0]["fix"] == fix


def test_the_json_is_the_contracts_with_why_and_unknown() -> None:
    """{"chains": [{target, healthy, hops, findings}]}; calls only with verbose."""
    d = Diagnosis(_facts(), [_finding("health-check-blocked", "tasks", "sg-1")])
    doc = to_json([d])
    chain = doc["chains"][0]
    assert set(chain) == {"target", "healthy", "hops", "findings", "unknown"}
    assert chain["healthy"] is False
    assert chain["hops"][0] == {"hop": "api", "resource": "abc", "status": "ok"}
    assert chain["findings"] == [
        {
            "code": "health-check-blocked",
            "severity": "error",
            "hop": "tasks",
            "resource": "sg-1",
            "message": "what",
            "why": "why",
            "fix": "CLI",
        }
    ]
    assert to_json([d], verbose=True)["chains"][0]["calls"] == {"elbv2:DescribeTargetHealth": 2}


def test_the_text_picture_and_findings() -> None:
    """One line per hop with mark and short resource, then what/why/fix; colour on request."""
    d = Diagnosis(_facts(), [_finding("health-check-blocked", "tasks", "sg-1")])
    text = to_text([d])
    lines = text.splitlines()
    assert lines[0] == "rest-api/abc: 1 error"
    assert lines[1].split() == ["├─", "✓", "api", "abc"]
    assert lines[4].split() == ["└─", "✗", "tasks", "task-definition/app:3"]
    assert "    what: what" in lines
    assert "    why:  why" in lines
    assert "    fix:  CLI" in lines
    assert "\033[" not in text
    assert "\033[31m✗\033[0m" in to_text([d], colour=True)
    assert "elbv2:DescribeTargetHealth" in to_text([d], verbose=True)


def test_short_keeps_the_resource_part_of_an_arn() -> None:
    """ARNs are shortened to their resource part; ids stay."""
    assert short(TG_A) == "targetgroup/a/1"
    assert short("sg-1") == "sg-1"


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal_without_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    """A terminal gets colour unless NO_COLOR is set (https://no-color.org)."""
    monkeypatch.setattr("sys.stdout", _Tty())
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert cli_doctor._colour()
    monkeypatch.setenv("NO_COLOR", "1")
    assert not cli_doctor._colour()
    monkeypatch.setattr("sys.stdout", io.StringIO())
    monkeypatch.delenv("NO_COLOR")
    assert not cli_doctor._colour()


def test_a_hops_note_is_a_line_under_it() -> None:
    """A note (the service's counts, say) follows its hop's line, inside the picture."""
    facts = _facts()
    d = Diagnosis(facts, [], {facts.hops[1]: "2 targets healthy"})
    lines = to_text([d]).splitlines()
    assert lines[2].split() == ["├─", "✓", "nlb-target-group", "targetgroup/a/1"]
    assert lines[3].startswith("  │")
    assert lines[3].strip("│ ") == "2 targets healthy"


def test_picture_from_the_json_is_the_text_reports_picture() -> None:
    """`picture` draws a chain's JSON (what a status keeps) as `to_text` draws the chain: the
    same hop lines, marks and notes (a hop's `note` in the JSON is its line underneath)."""
    facts = _facts()
    d = Diagnosis(facts, [_finding("health-check-blocked", "tasks", "sg-1")])
    d.notes[facts.hops[3]] = "awsvpc, 1 stopped recently"
    chain = to_json([d])["chains"][0]
    chain["hops"][3]["note"] = d.notes[facts.hops[3]]
    drawn = report.picture(chain)
    assert drawn == to_text([d]).splitlines()[1 : 1 + len(drawn)]
    assert drawn[3].split() == ["└─", "✗", "tasks", "task-definition/app:3"]
    assert drawn[4].strip() == "awsvpc, 1 stopped recently"
