"""`psctl events install|uninstall`: the EventBridge rule and SQS queues `psctl run --events` reads.

`install` prints the `--events` value to give `psctl run` (and, with `-o json`, every ARN and
URL); `uninstall` deletes what carries our owner tag and says what. Neighbours: `controller.cli`
(dispatch), `controller.cli_args` (options), `controller.aws.events_setup` (the calls).
"""

from __future__ import annotations

import argparse
import json

from controller.aws import events_setup
from controller.cli_aws import aws_context


def cmd_events(args: argparse.Namespace) -> int:
    """events install|uninstall: 0 when done."""
    aws = aws_context(args, read_cache_seconds=0.0)
    if args.action == "install":
        made = events_setup.install(aws, args.queue)
        if args.output == "json":
            print(
                json.dumps(
                    {
                        "events": made.events_url,
                        "ruleArn": made.rule_arn,
                        "queueUrl": made.queue_url,
                        "queueArn": made.queue_arn,
                        "deadLetterQueueUrl": made.dlq_url,
                    },
                    indent=2,
                )
            )
        else:
            print(f"rule {made.rule_arn} -> queue {made.queue_url} (DLQ {made.dlq_url})")
            print(f"run the controller with: psctl run --events {made.events_url} ...")
            print(
                "needs a CloudTrail trail logging management events; delivery is best effort "
                "(polling every --full-resync is the backstop)"
            )
        return 0
    gone = events_setup.uninstall(aws, args.queue)
    if args.output == "json":
        print(json.dumps({"deleted": gone}, indent=2))
    else:
        print("\n".join(f"deleted {what}" for what in gone) or "nothing of ours to delete")
    return 0
