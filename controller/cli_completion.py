"""`psctl completion bash|zsh|fish`: shell completion generated from the parser itself.

Subcommands complete at the first position; after one, its options complete on `-`, and files
elsewhere (specs are files and directories); an option with choices completes them. Generated
from `controller.cli_args.parser()`, so a new option completes without editing this file.
Neighbours: `controller.cli_args` (the parser), `controller.cli` (dispatch).
"""

from __future__ import annotations

import argparse
import sys

from controller.cli_args import parser


def _commands(p: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in p._actions:  # argparse keeps subcommands only here
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _options(sp: argparse.ArgumentParser) -> list[str]:
    return sorted(o for a in sp._actions for o in a.option_strings)


def _choices(sp: argparse.ArgumentParser) -> list[str]:
    """Choices of positional arguments (`events install|uninstall`, `completion bash|...`)."""
    return [str(c) for a in sp._actions if not a.option_strings for c in (a.choices or [])]


def bash(p: argparse.ArgumentParser) -> str:
    """A bash completion function for psctl (also loaded by zsh through bashcompinit)."""
    cases = "\n".join(
        f'    {name}) opts="{" ".join(_options(sp))}"; words="{" ".join(_choices(sp))}";;'
        for name, sp in _commands(p).items()
    )
    names = " ".join(_commands(p))
    return f"""\
# psctl completion for bash: source <(psctl completion bash)
_psctl() {{
  local cur="${{COMP_WORDS[COMP_CWORD]}}" opts="" words=""
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "{names} --help --version" -- "$cur") ); return
  fi
  case "${{COMP_WORDS[1]}}" in
{cases}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
  else
    COMPREPLY=( $(compgen -W "$words" -- "$cur") $(compgen -f -- "$cur") )
  fi
}}
complete -o filenames -F _psctl psctl
"""


def zsh(p: argparse.ArgumentParser) -> str:
    """zsh: the bash function through zsh's bashcompinit."""
    return "#compdef psctl\nautoload -U +X bashcompinit && bashcompinit\n" + bash(p)


def fish(p: argparse.ArgumentParser) -> str:
    """fish: one `complete` line per subcommand and per option."""
    lines = ["# psctl completion for fish: psctl completion fish | source"]
    for name, sp in _commands(p).items():
        about = (sp.description or "").replace("'", "")[:60]
        lines.append(f"complete -c psctl -n __fish_use_subcommand -f -a {name} -d '{about}'")
        when = f"-n '__fish_seen_subcommand_from {name}'"
        for action in sp._actions:
            for option in action.option_strings:
                flag = f"-l {option[2:]}" if option.startswith("--") else f"-s {option[1:]}"
                lines.append(f"complete -c psctl {when} {flag}")
        if words := _choices(sp):
            lines.append(f"complete -c psctl {when} -f -a '{' '.join(words)}'")
    return "\n".join(lines) + "\n"


SHELLS = {"bash": bash, "zsh": zsh, "fish": fish}


def cmd_completion(args: argparse.Namespace) -> int:
    """completion: the script for `args.shell` on stdout."""
    sys.stdout.write(SHELLS[args.shell](parser()))
    return 0
