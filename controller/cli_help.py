"""`psctl --help` and each subcommand's help: a one-line purpose, examples and exit codes.

`decorate(parser)` gives the top parser and every subcommand an epilog (examples, then the exit
codes of the contract) shown verbatim, as kubectl and Terraform users expect. Text only,
standard library only. Neighbours: `controller.cli_args` (builds the parser, calls this).
"""

from __future__ import annotations

import argparse

PURPOSE = (
    "psctl builds and keeps true the private path API Gateway -> VPC Link -> NLB -> ECS of "
    "PrivateService specs."
)

TOP = """\
examples:
  psctl validate -f examples/                 check every spec offline
  psctl plan -f examples/orders-rest-nlb.yaml what apply would change
  psctl apply -f examples/ --parallel 4       reconcile until Ready
  psctl sandbox --run examples/               AWS on loopback, the controller on examples/
  psctl completion bash > /etc/bash_completion.d/psctl

exit codes: 0 done, 1 invalid input or failure (one line on stderr), 2 plan
--detailed-exitcode with changes, 130 interrupted. `psctl COMMAND --help` for each command.
"""

# command -> (examples, exit codes)
EPILOGS: dict[str, tuple[str, str]] = {
    "validate": (
        "psctl validate -f examples/\n  psctl validate -f svc.yaml -o json",
        "0 every spec valid, 1 any problem (each printed with file:line, field and fix)",
    ),
    "plan": (
        "psctl plan -f svc.yaml\n  psctl plan -f specs/ --detailed-exitcode -o json",
        "0 planned (with --detailed-exitcode: nothing to do), 2 changes (--detailed-exitcode), "
        "1 invalid spec or a conflict",
    ),
    "apply": (
        "psctl apply -f svc.yaml\n  psctl apply -f specs/ --parallel 8 --timeout 1200 -o json"
        "\n  psctl apply -f svc.yaml --allow-replace   # a change plan marks 'downtime'",
        "0 every spec converged, 1 invalid spec, one not converged, or a downtime change "
        "without --allow-replace (the reason printed, nothing changed)",
    ),
    "delete": (
        "psctl delete -f svc.yaml\n  psctl delete -f specs/ -o json   # lists what was deleted",
        "0 deleted (or kept: deletionPolicy Retain), 1 invalid spec or not deleted",
    ),
    "status": (
        "psctl status -f svc.yaml\n  psctl status --controller http://127.0.0.1:8080 -o json",
        "0 printed, 1 invalid spec or no controller at --controller",
    ),
    "doctor": (
        "psctl doctor -f svc.yaml\n  psctl doctor --rest-api abc123 --stage prod",
        "0 no error found, 1 errors found, 2 the chain could not be read",
    ),
    "run": (
        "psctl run --source specs/ --listen 127.0.0.1:8080\n"
        "  psctl run --source s3://bucket/prefix --prune",
        "0 after SIGTERM, 1 invalid options or --listen in use",
    ),
    "crd": ("psctl crd > crds/privateservice.yaml", "0"),
    "events": ("psctl events install\n  psctl events uninstall", "0 done, 1 failure"),
    "sandbox": (
        "psctl sandbox --port 0\n  psctl sandbox --apply examples/ --run examples/",
        "0 after Ctrl-C, 1 --port in use or invalid options",
    ),
    "completion": (
        "psctl completion bash > ~/.local/share/bash-completion/completions/psctl\n"
        '  psctl completion zsh > "${fpath[1]}/_psctl"\n'
        "  psctl completion fish > ~/.config/fish/completions/psctl.fish",
        "0",
    ),
}


def _subparsers(
    parser: argparse.ArgumentParser,
) -> dict[str, tuple[argparse.ArgumentParser, str]]:
    """Each subcommand's parser and one-line help (argparse keeps them only here)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            return {name: (sp, helps.get(name, "")) for name, sp in action.choices.items()}
    return {}


def decorate(parser: argparse.ArgumentParser) -> None:
    """Purpose, examples and exit codes on the top parser and every subcommand."""
    parser.description = PURPOSE
    parser.epilog = TOP
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    for name, (sub, purpose) in _subparsers(parser).items():
        sub.description = sub.description or purpose
        examples, codes = EPILOGS.get(name, ("", ""))
        if examples:
            sub.epilog = f"examples:\n  {examples}\n\nexit codes: {codes}"
            sub.formatter_class = argparse.RawDescriptionHelpFormatter
