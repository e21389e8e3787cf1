"""psctl doctor: the command (parse its targets, wire AWS read-only, print, pick the exit status).

One starting point per run: `-f PATH...` (every spec's own chain), `--rest-api ID [--stage]`,
`--http-api ID`, `--load-balancer ARN|NAME` or `--ecs-service CLUSTER/SERVICE`. Each chain is
discovered (`controller.doctor.discover`), checked (`controller.doctor.checks`) and reported
(`controller.doctor.report`: text, `-o json`, `-v` for the AWS calls per operation).
Exit status (contract): 0 no finding of severity error, 1 at least one, 2 a chain could not be
read (not found, access denied, a spec whose chain does not exist yet, an invalid spec): one
line on stderr naming what, and which call and permission, never a traceback.
`with_diagnoses` and `controller_diagnoses` serve `psctl status --doctor` (a spec's chain
picture under its status, from the same run as the controller's `/doctor`).
Neighbours: `controller.doctor` (discovery, checks, report), `controller.cli_args` (the parser),
`controller.cli_aws` (`load_specs`, `aws_context`, status), `controller.runtime.diagnosis`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from functools import partial
from typing import Any

from controller.aws.errors import AWS_ERRORS
from controller.aws.session import AwsContext
from controller.cli_aws import aws_context, load_specs
from controller.doctor.checks import run_checks
from controller.doctor.checks.ecs import hop_summaries
from controller.doctor.discover import ChainUnreadableError, Discovery
from controller.doctor.facts import Facts
from controller.doctor.report import Diagnosis, to_json, to_text
from controller.errors import ControllerError
from controller.runtime.diagnosis import CONDITION, condition, diagnose
from controller.spec.models import PrivateService

UNREADABLE = 2
FORMS = ("paths", "rest_api", "http_api", "load_balancer", "ecs_service")


def _targets(args: argparse.Namespace, found: Discovery) -> list[tuple[str, Callable[[], Facts]]]:
    """(what, how to discover it) per chain of the command line; [] after printing a problem."""
    if args.stage and not args.rest_api:
        print("error: --stage goes with --rest-api", file=sys.stderr)
        return []
    if args.paths:
        specs = load_specs(args.paths)
        return [(ps.owner, partial(found.spec, ps)) for ps in specs or []]
    if args.rest_api:
        return [(args.rest_api, lambda: found.rest_api(args.rest_api, args.stage))]
    if args.http_api:
        return [(args.http_api, lambda: found.http_api(args.http_api))]
    if args.load_balancer:
        return [(args.load_balancer, lambda: found.load_balancer(args.load_balancer))]
    return [(args.ecs_service, lambda: found.ecs_service(args.ecs_service))]


def _colour() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def cmd_doctor(args: argparse.Namespace) -> int:
    """doctor: discover each chain, run every check, print; 0 / 1 errors found / 2 unreadable."""
    if sum(bool(getattr(args, form)) for form in FORMS) != 1:
        print(
            "error: doctor takes one of -f PATH, --rest-api, --http-api, --load-balancer, "
            "--ecs-service",
            file=sys.stderr,
        )
        return UNREADABLE
    try:
        found = Discovery(aws_context(args))
    except ValueError as exc:  # no region
        print(f"error: {exc}", file=sys.stderr)
        return UNREADABLE
    targets = _targets(args, found)
    if not targets:
        return UNREADABLE
    diagnoses: list[Diagnosis] = []
    unreadable = False
    for what, discover in targets:
        try:
            facts = discover()
        except ChainUnreadableError as exc:
            print(f"error: {exc}", file=sys.stderr)
            unreadable = True
            continue
        except AWS_ERRORS as exc:
            print(f"error: {what}: AWS: {exc}", file=sys.stderr)
            unreadable = True
            continue
        diagnoses.append(Diagnosis(facts, run_checks(facts), hop_summaries(facts)))
    if args.output == "json":
        print(json.dumps(to_json(diagnoses, verbose=args.verbose), indent=2))
    elif diagnoses:
        print(to_text(diagnoses, colour=_colour(), verbose=args.verbose))
    if unreadable:
        return UNREADABLE
    return 1 if any(d.errors for d in diagnoses) else 0


def _attach(status: dict[str, Any], diagnosis: dict[str, Any], cond: dict[str, Any]) -> None:
    others = [c for c in status.get("conditions", []) if c.get("type") != CONDITION]
    status["conditions"] = [*others, cond]
    status["diagnosis"] = diagnosis


def with_diagnoses(
    specs: list[PrivateService], docs: list[dict[str, Any]], aws: AwsContext
) -> list[dict[str, Any]]:
    """`psctl status -f ... --doctor`: each spec's status with doctor's diagnosis and its
    Diagnosed condition, as the controller keeps them (about 60 reads more per chain: the dry
    pass's reads come from the read cache the status just filled)."""
    for ps, doc in zip(specs, docs, strict=True):
        found = diagnose(ps, aws, "requested")
        _attach(doc["status"], found, condition(found, None))
    return docs


def controller_diagnoses(url: str, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`psctl status --controller URL --doctor`: ask the controller's `/doctor` for each spec
    it holds (it diagnoses now) and put the answer in that spec's status."""
    for doc in docs:
        meta = doc.get("metadata")
        if not meta:
            continue  # an invalid document: nothing to diagnose
        owner = f"{meta['namespace']}/{meta['name']}"
        query = urllib.parse.urlencode({"spec": owner})
        request = urllib.request.Request(f"{url.rstrip('/')}/doctor?{query}")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=300) as resp:  # noqa: S310
                body = json.load(resp)
        except urllib.error.HTTPError as exc:  # 409: the chain could not be read
            body = json.load(exc)
        except (OSError, ValueError) as exc:
            raise ControllerError(
                f"the controller at {url} did not diagnose {owner}: {exc}"
            ) from None
        if body.get("diagnosis") and body.get("condition"):
            _attach(doc["status"], body["diagnosis"], body["condition"])
    return docs
