"""psctl: parse the command line, load specs, wire AWS, run one command, pick the exit status.

Exit statuses follow the contract: validate 0/1; plan 0, or with --detailed-exitcode 0 (nothing
to do) / 2 (changes); apply and delete 0 once done, 1 with the reason; any invalid spec is 1
before any AWS call. This module is the entry (`main`, `COMMANDS`) with the offline commands
(validate, crd) and the sandbox glue; the parser is `controller.cli_args`, the live-AWS commands
(plan, apply, delete, status) `controller.cli_aws`, `psctl run` `controller.cli_run`.
Neighbours: those three, `controller.spec.loader`, `controller.sandbox.cli`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from controller import logging as logsetup
from controller.aws.errors import AWS_ERRORS
from controller.cli_args import parser
from controller.cli_aws import (
    cmd_apply,
    cmd_plan,
    cmd_status,
    load_specs,
    print_statuses,
    reconcile_specs,
    statuses,
)
from controller.cli_completion import cmd_completion
from controller.cli_doctor import cmd_doctor
from controller.cli_events import cmd_events
from controller.cli_run import cmd_run
from controller.errors import ControllerError
from controller.spec.duplicates import mark_duplicates
from controller.spec.loader import load_paths

if TYPE_CHECKING:
    from controller.aws.session import AwsContext


def cmd_validate(args: argparse.Namespace) -> int:
    """validate: offline, every problem printed."""
    docs = mark_duplicates(load_paths(args.paths))
    errors = sum(p.severity == "error" for d in docs for p in d.problems) + sum(
        d.spec is None and not d.problems for d in docs
    )
    if args.output == "json":
        print(
            json.dumps(
                {
                    "valid": errors == 0 and bool(docs),
                    "documents": [
                        {
                            "source": d.source,
                            "index": d.index,
                            "name": d.spec.owner if d.spec else None,
                            "problems": [
                                {
                                    "path": p.path,
                                    "message": p.message,
                                    "severity": p.severity,
                                    "source": p.source,
                                    "line": p.line,
                                }
                                for p in d.problems
                            ],
                        }
                        for d in docs
                    ],
                },
                indent=2,
            )
        )
    else:
        for d in docs:
            for p in d.problems:
                print(p, file=sys.stderr)
            if d.spec is not None and not any(p.severity == "error" for p in d.problems):
                print(f"{d.source}: {d.spec.owner}: valid")
    if not docs:
        print(f"no PrivateService documents in {', '.join(args.paths)}", file=sys.stderr)
        return 1
    return 1 if errors else 0


def cmd_crd(_: argparse.Namespace) -> int:
    """crd: the CustomResourceDefinition generated from the models."""
    from controller.spec.crd import crd_yaml

    sys.stdout.write(crd_yaml())
    return 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    """sandbox: moto's server on loopback with the fidelity layer, until interrupted; --apply
    applies specs once it is up, --run runs the controller on SOURCE (`controller.sandbox.cli`)."""
    try:
        from controller.sandbox import cli as sandbox_cli
    except ImportError as exc:
        print(
            f"the sandbox needs the [sandbox] extra: pip install "
            f"'privateservice-controller[sandbox]' ({exc})",
            file=sys.stderr,
        )
        return 1
    specs = load_specs(args.apply_paths) if args.apply_paths else []
    if specs is None:
        return 1

    def apply_specs(aws: AwsContext) -> None:
        reconcile_specs(specs, aws, 300.0)
        print_statuses(statuses(specs, aws))

    return sandbox_cli.main(args, apply_specs if specs else None)


COMMANDS = {
    "validate": cmd_validate,
    "plan": cmd_plan,
    "apply": cmd_apply,
    "delete": lambda a: cmd_apply(a, deleting=True),
    "status": cmd_status,
    "doctor": cmd_doctor,
    "crd": cmd_crd,
    "run": cmd_run,
    "events": cmd_events,
    "sandbox": cmd_sandbox,
    "completion": cmd_completion,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `psctl` and `python -m controller`."""
    args = parser().parse_args(argv)
    logsetup.configure(
        getattr(args, "log_level", "warning"), getattr(args, "log_format", "console")
    )
    try:
        code = int(COMMANDS[args.command](args))
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
    except BrokenPipeError:  # `psctl apply -o json | head`: the reader left early
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print(
            "error: the output was closed before psctl finished writing it (broken pipe): "
            "read all of it (e.g. `| less`, or `> file`)",
            file=sys.stderr,
        )
        return 1
    except (ControllerError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except AWS_ERRORS as exc:
        print(f"error: AWS: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return code
