"""The fault table: one `Fault` per row, each injected through the proxies in front of the emulated
RM and EMR endpoint while the real daemon runs; `test_fault_table.py` drives every row and checks
the same invariants on each (see `INVARIANTS`). docs/reliability.md's results table is generated
from this module (`python -m tests.faults.table`) and a test keeps the two equal.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from .proxy import Answer, Delay, Drip, Edit, Exchange, ForwardThenAnswer, Rule, Truncate, aws_error
from .world import World

INVARIANTS: Final = (
    ("no write on stale data", "no resize reaches EMR from a stale tick, nor during a fault that hides the truth"),
    ("no double resize", "one decision, one tick's write (botocore's own retries of that request included)"),
    ("core floor held", "the core group is never written and never below `limits.min_core_units`"),
    ("no crash", "the process lives, every stderr line is a JSON event, no tick ends in an error"),
    ("recovery within one tick", "the first tick that starts after the fault clears acts on the truth"),
)

Step = Callable[[World], None]


@dataclass(frozen=True)
class Fault:
    name: str  # the row's id (pytest id and doc row)
    what: str  # the fault, in words, for the doc
    inject: Step
    clear: Step
    truth: str = "up"  # what the cluster needs once the fault is on: "up" (pending demand) or "down" (idle nodes)
    during: str = "stale"  # each tick under the fault: "stale", "failed" (its write failed), "held" (fresh, no write)
    fault_ticks: int = 2  # ticks to run under the fault before it clears
    applied_in_fault: bool = False  # the fault lets the write through (EMR applied it, the daemon heard an error)


def _rm(rule: Rule) -> Step:
    def inject(world: World) -> None:
        world.rm.rule = rule

    return inject


def _emr(rule: Rule) -> Step:
    def inject(world: World) -> None:
        world.emr.rule = rule

    return inject


def _clear(world: World) -> None:
    world.rm.rule = None
    world.emr.rule = None
    world.rm.up()


def _down(world: World) -> None:
    world.rm.down()


HTML: Final = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
_NODES: Final = "/ws/v1/cluster/nodes"


def _on_nodes(edit: Callable[[dict[str, Any]], None]) -> Callable[[str, Any], Any]:
    def apply(path: str, body: Any) -> Any:
        if path.startswith(_NODES):
            for node in (body.get("nodes") or {}).get("node") or []:
                edit(node)
        return body

    return apply


def _wrong_types(node: dict[str, Any]) -> None:
    node["numContainers"] = str(node.get("numContainers"))
    node["availMemoryMB"] = float(node.get("availMemoryMB", 0)) + 0.5


def _unknown_usage(node: dict[str, Any]) -> None:
    node["numContainers"] = -1
    node["usedMemoryMB"] = -1


def _standby(exchange: Exchange) -> Answer:
    if exchange.target.startswith("/ws/v1/cluster/info"):
        info = {"clusterInfo": {"id": 1, "state": "STARTED", "haState": "STANDBY"}}
        return Answer(200, json.dumps(info).encode(), name="standby")
    return Answer(307, b"", headers=(("Location", "http://rm-active.internal:8088" + exchange.target),), name="307")


def _redirect_loop(world: World) -> Rule:
    def rule(exchange: Exchange) -> Answer:
        return Answer(307, b"", headers=(("Location", world.rm.url + exchange.target),), name="307 loop")

    return rule


def _loop(world: World) -> None:
    world.rm.rule = _redirect_loop(world)


def _writes(action: Any) -> Rule:
    return lambda e: action if e.operation.startswith("Modify") else None


def _operation(name: str, action: Any) -> Rule:
    return lambda e: action if e.operation == name else None


def _reads(action: Any) -> Rule:
    return lambda e: None if e.operation.startswith("Modify") else action


_THROTTLED: Final = aws_error("ThrottlingException", "Rate exceeded", 400)
_INTERNAL: Final = aws_error("InternalServerError", "Internal Server Error", 500)
_CAPACITY: Final = aws_error("ValidationException", "Insufficient capacity for instance type m5.xlarge", 400)

FAULTS: Final = (
    Fault("rm-down", "RM down: connection refused", _down, _clear),
    Fault(
        "rm-slow",
        "RM slow: every answer 0.8 s late (4 calls: past `guards.stale_after_s` 2 s, each inside the 1.5 s timeout)",
        _rm(lambda e: Delay(0.8)),
        _clear,
        fault_ticks=1,
    ),
    Fault(
        "rm-drip",
        "RM trickles its answers, 16 bytes every 0.5 s (each read inside the 1.5 s timeout, a whole answer minutes)",
        _rm(lambda e: Drip(0.5)),
        _clear,
    ),
    Fault("rm-garbage", "RM answers 200 with an HTML page", _rm(lambda e: Answer(200, HTML, "text/html")), _clear),
    Fault("rm-truncated", "RM's answers cut in half (Content-Length of the whole)", _rm(lambda e: Truncate()), _clear),
    Fault(
        "rm-wrong-types",
        'node fields of the wrong type (`numContainers` "3", `availMemoryMB` 1.5)',
        _rm(lambda e: Edit(_on_nodes(_wrong_types), "wrong types")),
        _clear,
    ),
    Fault(
        "rm-unknown-node-usage",
        "every node's `numContainers` and `usedMemoryMB` -1 while idle nodes wait to be removed",
        _rm(lambda e: Edit(_on_nodes(_unknown_usage), "unknown usage")),
        _clear,
        truth="down",
        during="held",
    ),
    Fault("rm-standby", "the only RM is a standby: haState STANDBY, 307 to the active one", _rm(_standby), _clear),
    Fault("rm-307-loop", "every RM answer a 307 to itself", _loop, _clear),
    Fault(
        "aws-throttled-write",
        "ModifyInstanceGroups throttled (ThrottlingException, every botocore retry)",
        _emr(_writes(_THROTTLED)),
        _clear,
        during="failed",
        fault_ticks=1,
    ),
    Fault(
        "aws-throttled-reads",
        "every EMR read throttled",
        _emr(_reads(_THROTTLED)),
        _clear,
        fault_ticks=1,
    ),
    Fault(
        "aws-5xx-write",
        "ModifyInstanceGroups answered 500 InternalServerError, not applied",
        _emr(_writes(_INTERNAL)),
        _clear,
        during="failed",
        fault_ticks=1,
    ),
    Fault(
        "aws-capacity",
        "ModifyInstanceGroups refused for insufficient capacity",
        _emr(_writes(_CAPACITY)),
        _clear,
        during="failed",
        fault_ticks=1,
    ),
    Fault(
        "aws-partial-read",
        "partial failure: ListInstanceGroups answers, ListInstances fails with 500",
        _emr(_operation("ListInstances", _INTERNAL)),
        _clear,
        fault_ticks=1,
    ),
    Fault(
        "aws-applied-but-500",
        "ModifyInstanceGroups applied by EMR but answered 500 (every retry)",
        _emr(_writes(ForwardThenAnswer(_INTERNAL))),
        _clear,
        during="failed",
        fault_ticks=1,
        applied_in_fault=True,
    ),
)


@dataclass(frozen=True)
class Scenario:
    """A fault that needs processes of its own (killed, paused, replicated, under a stepped clock): one
    test each, with the same invariants checked in the form that fits it (`cells`, one per invariant)."""

    what: str
    cells: tuple[str, str, str, str, str]
    test: str  # file::function


SCENARIOS: Final = (
    Scenario(
        "SIGKILL while ModifyInstanceGroups is in flight (EMR applies it, nobody hears), then a restart",
        (
            "pass",
            "pass: the restarted daemon reads the target back, writes nothing",
            "pass",
            "pass",
            "pass: new demand written by the first tick after the resize",
        ),
        "test_processes.py::test_sigkill_mid_resize_then_restart_writes_nothing_twice",
    ),
    Scenario(
        "SIGKILL of the leader of three replicas (lease table on moto DynamoDB) after it scaled up",
        (
            "pass",
            "pass: each decision written once",
            "pass",
            "pass (survivors)",
            "pass: failover within two lease periods, with the old leader's cooldown",
        ),
        "test_processes.py::test_sigkill_of_the_leader_of_three_fails_over_with_its_memory_and_no_double_write",
    ),
    Scenario(
        "SIGSTOP of the leader of two between its read and its write; SIGCONT after the standby wrote",
        (
            "pass: the resumed leader's tick is stale and fenced",
            "pass: one write",
            "pass",
            "pass",
            "pass: the standby writes within two lease periods",
        ),
        "test_processes.py::test_sigstop_of_the_leader_between_read_and_write_fences_it",
    ),
    Scenario(
        "SIGKILL of the leader of two while its write is in flight (applied, never answered)",
        (
            "pass",
            "pass: the new leader reads the target back, writes nothing",
            "pass",
            "pass (survivor)",
            "pass: takeover within two lease periods",
        ),
        "test_processes.py::test_sigkill_of_the_leader_in_the_middle_of_its_write_is_not_written_again",
    ),
    Scenario(
        "interruption storm: two-minute warnings for 6 of 9 Spot task nodes at once (moto SQS), reclaimed"
        " two minutes later; with and without replacement on notice; `max_task_units` 12",
        (
            "pass",
            "pass: at most the noticed units bought (9 -> 12: the maximum), once; each write once",
            "pass",
            "pass",
            "pass: after the reclaims the group is back at what demand wants, the first tick plans nothing",
        ),
        "test_storm.py::test_an_interruption_storm",
    ),
    Scenario(
        "the wall clock steps a day back, or a day forward, under one daemon (libfaketime; monotonic runs on)",
        (
            "pass",
            "pass: a 3 s scale-up cooldown is not cut short by the forward step",
            "pass",
            "pass",
            "pass: the next scale-up comes when the cooldown ends in real seconds (it used to wait out the step)",
        ),
        "test_clock_jump.py::test_cooldown_holds_in_real_seconds_through_a_wall_clock_jump",
    ),
)


def markdown_rows() -> list[str]:
    """The doc's results table: one line per row of `FAULTS`, then one per `SCENARIOS`."""
    head = "| Fault | " + " | ".join(name for name, _ in INVARIANTS) + " | Test (`tests/faults/`) |"
    rule = "|---|" + "---|" * len(INVARIANTS) + "---|"
    rows = [head, rule]
    for f in FAULTS:
        cells = " | ".join("pass" for _ in INVARIANTS)
        rows.append(f"| {f.what} | {cells} | `test_fault_table.py::test_fault[{f.name}]` |")
    for s in SCENARIOS:
        rows.append(f"| {s.what} | {' | '.join(s.cells)} | `{s.test}` |")
    return rows


if __name__ == "__main__":
    print("\n".join(markdown_rows()))
