"""The SWIM/Alibaba conversion asks for EMR's container sizes for the cluster's core instance type."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autoscaler.sim.command import main
from autoscaler.sim.containers import container_sizes, emr_task_defaults
from autoscaler.sim.conversion import MIB
from autoscaler.sim.spec import SpecError, default_spec, parse_spec
from autoscaler.sim.trace import load_trace


def _core(itype: str) -> dict[str, object]:
    return {
        "pools": [
            {"id": "ig-master", "role": "MASTER", "initial": 1},
            {"id": "ig-core", "role": "CORE", "types": itype},
        ]
    }


def test_default_cluster_uses_emr_m5_xlarge_sizes(tmp_path: Path) -> None:
    """EMR's task-configuration table, m5.xlarge: 3072 MB maps, 6144 MB reduces, a 6144 MB AM."""
    path = tmp_path / "t.tsv"
    path.write_text(f"j\t0\t0\t{2 * 128 * MIB}\t{256 * MIB}\t0\n")  # 2 maps, 1 reduce
    (job,) = load_trace(path, model=default_spec().conversion)
    assert [(s.tasks, s.memory_mb) for s in job.stages] == [(2, 3072), (1, 6144)]
    assert job.am is not None
    assert job.am.memory_mb == 6144
    assert parse_spec({}).conversion == default_spec().conversion


@pytest.mark.parametrize(
    ("itype", "sizes"),
    [("r5.2xlarge", (7168, 14336, 14336)), ("c5.xlarge", (1536, 3072, 3072)), ("m4.large", (1536, 3072, 3072))],
)
def test_core_type_picks_its_table_row(itype: str, sizes: tuple[int, int, int]) -> None:
    c = parse_spec(_core(itype)).conversion
    assert (c.map_memory_mb, c.reduce_memory_mb, c.am_memory_mb) == sizes
    assert emr_task_defaults()[itype] == sizes


def test_a_type_missing_from_the_table_takes_the_nearest_row_and_says_so() -> None:
    """A sibling's row (same family letter and size, newest generation); else the nearest YARN memory."""
    m6i = container_sizes("m6i.xlarge")
    assert (m6i.row, m6i.map_memory_mb, m6i.documented) == ("m5.xlarge", 3072, False)
    assert "m6i.xlarge is not in EMR's task-configuration table; using the row of m5.xlarge" in m6i.note
    assert container_sizes("r6i.xlarge").row == "r5.xlarge"
    assert container_sizes("m6i.8xlarge").row == "m5.8xlarge"  # not m4.8xlarge, nor m5d.8xlarge
    # no x-family row: x2iedn.xlarge (96 GiB YARN, 4 vCPUs) is nearest per vCPU to p2.xlarge (46848 MB, 4 vCPUs)
    assert container_sizes("x2iedn.xlarge").row == "p2.xlarge"


def test_conversion_keys_override_single_sizes() -> None:
    c = parse_spec({**_core("r5.xlarge"), "conversion": {"map_memory_mb": 1024}}).conversion
    assert (c.map_memory_mb, c.reduce_memory_mb, c.am_memory_mb) == (1024, 12288, 12288)


def test_unknown_core_type_is_a_located_error() -> None:
    with pytest.raises(SpecError, match=r"sim\.pools\[1\]\.types: unknown instance type 'x9\.huge'"):
        parse_spec(_core("x9.huge"))


def test_report_names_the_sizes_and_the_fallback_is_printed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    trace = tmp_path / "t.tsv"
    trace.write_text(f"j\t0\t0\t{128 * MIB}\t0\t0\n")
    config = tmp_path / "c.yaml"
    config.write_text(json.dumps({"sim": _core("m6i.xlarge")}))
    report = tmp_path / "r.json"
    argv = ["--trace", str(trace), "--policy", "pending-demand", "--config", str(config), "--report", str(report)]
    assert main(argv) == 0
    assert "using the row of m5.xlarge" in capsys.readouterr().err
    sizes = json.loads(report.read_text())["container_sizes"]
    assert sizes == {
        "instance_type": "m6i.xlarge",
        "emr_table_row": "m5.xlarge",
        "map_memory_mb": 3072,
        "reduce_memory_mb": 6144,
        "am_memory_mb": 6144,
    }
