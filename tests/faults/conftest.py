"""Fixtures of the fault suite: the world (emulated cluster, fault proxies, moto), one per module by
default; a module whose tests each need a cluster of their own overrides `world` with `fresh_world`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from autoscaler.emulator.server import Emulator

from .proxy import FaultProxy
from .world import World, build_cluster


@contextmanager
def new_world(tmp: Path, moto_url: str) -> Iterator[World]:
    cluster = build_cluster(time.time() - 7200)
    with Emulator(cluster, time_scale=0) as emu:
        rm = FaultProxy(int(emu.yarn_url.rsplit(":", 1)[1]))
        emr = FaultProxy(int(emu.emr_url.rsplit(":", 1)[1]))
        w = World(tmp, emu, cluster, rm, emr, moto_url)
        try:
            yield w
        finally:
            for d in w.daemons:
                if d.alive():
                    d.kill()
            rm.close()
            emr.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, moto_url: str) -> Iterator[World]:
    with new_world(Path(tmp_path_factory.mktemp("faults")), moto_url) as w:
        yield w


@pytest.fixture
def fresh_world(tmp_path: Path, moto_url: str) -> Iterator[World]:
    with new_world(tmp_path, moto_url) as w:
        yield w
