"""The stack graph: levels, cycles, dangling refs, and ref resolution."""

import pytest

from controller.model.stack import UNKNOWN, Ref, Resource, Stack, contains_unknown, resolve


def _stack(*resources: Resource) -> Stack:
    stack = Stack(owner="ns/n", tags={})
    for r in resources:
        stack.add(r)
    return stack


def test_levels_put_dependencies_first_and_group_independents():
    """A resource lands in the level after everything it references; siblings share a level."""
    stack = _stack(
        Resource("c", "k", "c", {"x": Ref("a"), "y": Ref("b", "arn")}),
        Resource("a", "k", "a", {}),
        Resource("b", "k", "b", {}),
        Resource("d", "k", "d", {}, extra_deps=("c",)),
    )
    assert [[r.key for r in level] for level in stack.levels()] == [["a", "b"], ["c"], ["d"]]
    assert stack.dependents("a") == {"c", "d"}


def test_cycle_and_dangling_refs_are_refused():
    """A cycle or a reference to a missing key is a bug in the builder, caught loudly."""
    with pytest.raises(ValueError, match="cycle"):
        _stack(
            Resource("a", "k", "a", {"x": Ref("b")}), Resource("b", "k", "b", {"x": Ref("a")})
        ).levels()
    with pytest.raises(ValueError, match="dangling"):
        _stack(Resource("a", "k", "a", {"x": Ref("zz")})).levels()
    with pytest.raises(ValueError, match="duplicate"):
        _stack(Resource("a", "k", "a", {}), Resource("a", "k", "a", {}))


def test_resolve_replaces_refs_and_marks_unknown():
    """Refs resolve from outputs at any depth; a missing producer yields UNKNOWN."""
    props = {"a": Ref("x", "arn"), "l": [Ref("y")], "n": {"m": Ref("x")}, "plain": 1}
    got = resolve(props, {"x": {"arn": "arn:1", "id": "i-1"}})
    assert got == {"a": "arn:1", "l": [UNKNOWN], "n": {"m": "i-1"}, "plain": 1}
    assert contains_unknown(got)
    assert not contains_unknown(resolve(props, {"x": {"arn": "a", "id": "i"}, "y": {"id": "j"}}))
