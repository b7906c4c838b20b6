"""EMR's per-instance-type YARN NodeManager defaults."""

from __future__ import annotations

import pytest

from autoscaler.instance_types import UnknownInstanceType, is_documented, known_instance_types, yarn_resources
from autoscaler.model import Resources


@pytest.mark.parametrize(
    ("instance_type", "expected"),
    [
        # EMR Release Guide, "Task configuration": yarn.nodemanager.resource.memory-mb; vcores = vCPUs
        ("m5.xlarge", Resources(12288, 4)),
        ("m5.2xlarge", Resources(24576, 8)),
        ("m5.4xlarge", Resources(57344, 16)),
        ("r5.xlarge", Resources(24576, 4)),
        ("r5.4xlarge", Resources(122880, 16)),
        ("c5.xlarge", Resources(6144, 4)),
        ("c5.4xlarge", Resources(24576, 16)),
        ("m5d.2xlarge", Resources(24576, 8)),
    ],
)
def test_documented_defaults(instance_type: str, expected: Resources) -> None:
    """Documented types return EMR's published NodeManager memory and the type's vCPUs."""
    assert yarn_resources(instance_type) == expected
    assert is_documented(instance_type)


@pytest.mark.parametrize("family", ["m5", "m5d", "m6g", "r5", "r6g", "c5", "c6g"])
@pytest.mark.parametrize("size", ["xlarge", "2xlarge", "4xlarge"])
def test_required_families_are_documented(family: str, size: str) -> None:
    """Every family the simulator relies on has a documented (not derived) figure, below its EC2 RAM."""
    t = f"{family}.{size}"
    assert is_documented(t)
    r = yarn_resources(t)
    assert 0 < r.memory_mb < {"xlarge": 1, "2xlarge": 2, "4xlarge": 4}[size] * 32 * 1024 * 4


def test_graviton_matches_x86_sibling() -> None:
    """A Graviton type gets the same YARN memory as the x86 type with the same RAM."""
    assert yarn_resources("m6g.xlarge") == yarn_resources("m5.xlarge")
    assert yarn_resources("r6g.2xlarge") == yarn_resources("r5.2xlarge")
    assert yarn_resources("c6g.4xlarge") == yarn_resources("c5.4xlarge")


def test_undocumented_type_falls_back_to_three_quarters_of_ram() -> None:
    """A type missing from EMR's table gets 75% of its EC2 memory (m7g.2xlarge: 32 GiB, 8 vCPUs)."""
    assert not is_documented("m7g.2xlarge")
    assert yarn_resources("m7g.2xlarge") == Resources(24576, 8)


def test_unknown_type_is_a_key_error_naming_it() -> None:
    """A type nothing knows raises a KeyError that names the type."""
    with pytest.raises(KeyError, match=r"zz9\.mega"):
        yarn_resources("zz9.mega")
    with pytest.raises(UnknownInstanceType):
        yarn_resources("")


def test_known_types_all_resolve() -> None:
    """Every type listed as known resolves, and the list covers hundreds of EMR types."""
    known = known_instance_types()
    assert len(known) > 300
    assert "m5.xlarge" in known
    assert all(yarn_resources(t).memory_mb > 0 for t in known)
