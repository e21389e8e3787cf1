"""What the runtime consumes and `controller.kube` and `controller.sources` provide.

`source`: the snapshot a spec source hands the runtime, the `Source` and `Feedback` protocols, and
the snapshot rules every source applies. `lease`: the leader lease's shared deadline logic, which
every backend subclasses. The runtime, Kubernetes and the sources are independent of each other
(an import-linter contract in pyproject keeps them so); this package, below all three, is what
they share. It imports only `controller.spec`.
"""
