"""psctl doctor: the command (parse its targets, wire AWS read-only, print, pick the exit status).

One starting point per run: `-f PATH...` (every spec's own chain), `--rest-api ID [--stage]`,
`--http-api ID`, `--load-balancer ARN|NAME` or `--ecs-service CLUSTER/SERVICE`. Each chain is
discovered (`controller.doctor.discover`), checked (`controller.doctor.checks`) and reported
(`controller.doctor.report`: text, `-o json`, `-v` for the AWS calls per operation).
Exit status (contract): 0 no finding of severity error, 1 at least one, 2 a chain could not be
read (not found, access denied, a spec whose chain does not exist yet, an invalid spec): one
line on stderr naming what, and which call and permission, never a traceback.
Neighbours: `controller.doctor` (discovery, checks, report), `controller.cli_args` (the parser),
`controller.cli_aws` (`load_specs`, `aws_context`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from functools import partial

from controller.aws.errors import AWS_ERRORS
from controller.cli_aws import aws_context, load_specs
from controller.doctor.checks import run_checks
from controller.doctor.checks.ecs import hop_summaries
from controller.doctor.discover import ChainUnreadableError, Discovery
from controller.doctor.facts import Facts
from controller.doctor.report import Diagnosis, to_json, to_text

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
