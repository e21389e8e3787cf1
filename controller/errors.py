"""The controller's small error tree.

`SpecError`: the input cannot work (exit 1, no AWS call). `TemporaryError`: an expected wait or a
transient failure; the caller requeues after `delay` seconds. `PermanentError`: retrying will not
help until someone changes something (a spec, a resource we do not own). The engine and the
runtime decide what to do from the class alone.
"""

from __future__ import annotations


class ControllerError(Exception):
    """Base of every error the controller raises on purpose."""


class SpecError(ControllerError):
    """A spec that cannot work; raised before any AWS call."""


class TemporaryError(ControllerError):
    """Retry after `delay` seconds: a resource still provisioning, a throttle, a race."""

    def __init__(self, message: str, delay: float = 5.0) -> None:
        super().__init__(message)
        self.delay = delay


class FencedError(TemporaryError):
    """A mutating AWS call refused locally: this replica no longer holds the leader lease."""


class OutcomeUnknownError(TemporaryError):
    """A create that AWS may have carried out although its answer was lost (the connection
    broke after the request was sent). It is not resent: the next pass looks the resource up."""


class InUseError(ControllerError):
    """A delete that keeps the resource on purpose: something else still uses it (another
    service's PRIVATE API and a shared execute-api endpoint). Reported as kept, not a failure."""


class PermanentError(ControllerError):
    """Retrying the same thing will fail the same way."""


class DiscoveryError(PermanentError):
    """The network the spec names (VPC, subnets) cannot be found or is ambiguous."""
