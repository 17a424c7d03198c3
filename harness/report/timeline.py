"""A scenario's timeline picture, built only from its journal entries.

Two steps, kept apart so the data can be tested without looking at pixels:

- `extract_timeline`: journal entries in, `TimelineData` (plain dataclasses) out. Jobs per runner
  (GitHub `job.started` / `job.completed` events), fault windows (`fault.inject` ok to
  `fault.revert` ok, read through `History.faults`), Prometheus' ALERTS samples as pending/firing
  spans with the on-call's notifications as marks, and production versions per component (the
  `production.sample` probes) as segments of one version each.
- `render_png`: `TimelineData` in, PNG bytes out (matplotlib's Agg canvas; no pyplot, no global
  figure state; matplotlib is imported only when drawing, so loading the harness stays fast).

Times are seconds since the first entry (the scenario's `scenario.start`). An empty journal gives
an empty `TimelineData` (`empty` is True); `render_png` still draws a valid picture saying there is
nothing to draw, and `harness.report.attach.attach_timeline` attaches nothing in that case.
"""

from __future__ import annotations

import io
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from itertools import pairwise
from typing import TYPE_CHECKING, Any, TypeVar

from harness.checks.history import History
from harness.core.redact import redact

if TYPE_CHECKING:
    from matplotlib.figure import Figure

COMPONENTS_PROBE = "components"
VERSION_PROBE = "version"
PRODUCTION_LANE = "production (load balancer)"
NO_ANSWER = "no answer"
ALERT_LABELS = ("runner",)  # ALERTS labels that tell two alerts of one name apart
FAULT_TARGETS = ("runner_role", "service", "container")  # what a fault's label names, first found
GAP_FACTOR = 2.5  # ALERTS samples further apart than this many evaluation steps start a new span

T = TypeVar("T")


@dataclass(frozen=True)
class JobBar:
    """One job on one runner: from its job.started to its job.completed (end None: not seen completed)."""

    runner: str
    job: str
    run_id: int | None
    start_s: float
    end_s: float | None
    conclusion: str | None


@dataclass(frozen=True)
class FaultSpan:
    """A fault window: from the fault taking effect to its revert (end None: not reverted in the journal)."""

    label: str
    fault_id: str
    start_s: float
    end_s: float | None


@dataclass(frozen=True)
class AlertSpan:
    """Prometheus held `alert` in `state` (pending or firing) over these seconds (equal ends: one sample)."""

    alert: str
    state: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class AlertMark:
    """A notification about `alert` with `status` (firing, resolved) reached the on-call at `at_s`."""

    alert: str
    status: str
    at_s: float


@dataclass(frozen=True)
class VersionSegment:
    """`component` answered `version` (NO_ANSWER: it did not) from `start_s` to `end_s`."""

    component: str
    version: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class TimelineData:
    """Everything the picture shows, in seconds since `start_ms` (wall clock, ms)."""

    scenario: str
    start_ms: int
    end_s: float
    runners: tuple[str, ...] = ()
    jobs: tuple[JobBar, ...] = ()
    faults: tuple[FaultSpan, ...] = ()
    alerts: tuple[AlertSpan, ...] = ()
    notifications: tuple[AlertMark, ...] = ()
    versions: tuple[VersionSegment, ...] = ()

    @property
    def empty(self) -> bool:
        """True when there is nothing to draw."""
        return not (self.runners or self.faults or self.alerts or self.notifications or self.versions)

    @property
    def alert_names(self) -> tuple[str, ...]:
        """The alerts with a span or a notification, in order of first appearance."""
        return tuple(dict.fromkeys([a.alert for a in self.alerts] + [n.alert for n in self.notifications]))

    @property
    def components(self) -> tuple[str, ...]:
        """The production components sampled, in order of first appearance."""
        return tuple(dict.fromkeys(v.component for v in self.versions))


def extract_timeline(entries: Sequence[dict[str, Any]]) -> TimelineData:
    """The timeline of one scenario's journal entries (its window, starting with scenario.start)."""
    if not entries:
        return TimelineData("", 0, 0.0)
    start = next((e for e in entries if e.get("op") == "scenario.start"), entries[0])
    t0 = int(start["ts_ms"])
    end_ms = max(int(e["ts_ms"]) for e in entries)

    def at(ms: float) -> float:
        return round(max(0.0, (ms - t0) / 1000), 3)

    jobs = _jobs(entries, at)
    runners = sorted({j.runner for j in jobs} | _listed_runners(entries))
    return TimelineData(
        scenario=str(start.get("scenario", "")),
        start_ms=t0,
        end_s=at(end_ms),
        runners=tuple(runners),
        jobs=tuple(jobs),
        faults=tuple(_faults(entries, at)),
        alerts=tuple(_alert_spans(entries, at)),
        notifications=tuple(_notifications(entries, at)),
        versions=tuple(_versions(entries, at)),
    )


def _jobs(entries: Sequence[dict[str, Any]], at: Callable[[float], float]) -> list[JobBar]:
    """A bar per job that started on a runner, from the GitHub events journalled."""
    started: dict[Any, dict[str, Any]] = {}
    completed: dict[Any, dict[str, Any]] = {}
    for entry in entries:
        if entry.get("op") != "github.event":
            continue
        event = entry.get("event") or {}
        event_ms = event.get("ts_ms", entry["ts_ms"])
        if event.get("type") == "job.started":
            started.setdefault(event.get("job_id"), event | {"ts_ms": event_ms})
        elif event.get("type") == "job.completed":
            completed[event.get("job_id")] = event | {"ts_ms": event_ms}
    for job_id, done in completed.items():  # started before the scenario's feed began: drawn from 0
        if job_id not in started and done.get("started") and done.get("runner_name"):
            started[job_id] = done | {"ts_ms": None}
    bars = []
    for job_id, begin in started.items():
        done = completed.get(job_id, {})
        bars.append(
            JobBar(
                runner=str(begin.get("runner_name") or done.get("runner_name") or "?"),
                job=str(begin.get("job_key") or done.get("job_key") or job_id),
                run_id=begin.get("run_id"),
                start_s=0.0 if begin["ts_ms"] is None else at(begin["ts_ms"]),
                end_s=at(done["ts_ms"]) if done else None,
                conclusion=done.get("conclusion"),
            )
        )
    return sorted(bars, key=lambda b: (b.start_s, b.runner))


def _listed_runners(entries: Sequence[dict[str, Any]]) -> set[str]:
    """Runner names GitHub listed (github.runners), so an idle or offline runner has its lane too."""
    return {
        str(r["name"])
        for e in entries
        if e.get("op") == "github.runners"
        for r in e.get("runners") or []
        if isinstance(r, dict) and r.get("name")
    }


def _faults(entries: Sequence[dict[str, Any]], at: Callable[[float], float]) -> list[FaultSpan]:
    """Fault windows that took effect, labelled by fault name and what it hit."""
    spans = []
    for window in History(entries).faults():
        target = next((window.details[k] for k in FAULT_TARGETS if window.details.get(k)), None)
        label = f"{window.fault} ({target})" if target else window.fault
        end = at(window.reverted_ms) if window.reverted_ms is not None else None
        spans.append(FaultSpan(label, window.fault_id, at(window.onset_ms), end))
    return spans


def alert_name(labels: dict[str, Any]) -> str:
    """`RunnerOffline{runner=primary}`: an alert's name and the labels that tell it from its namesakes."""
    selected = ",".join(f"{k}={labels[k]}" for k in ALERT_LABELS if labels.get(k))
    name = str(labels.get("alertname", "?"))
    return f"{name}{{{selected}}}" if selected else name


def _alert_spans(entries: Sequence[dict[str, Any]], at: Callable[[float], float]) -> list[AlertSpan]:
    """Pending/firing spans from the ALERTS samples journalled (prometheus.range of an ALERTS selector)."""
    samples: dict[tuple[str, str], set[float]] = {}
    for entry in entries:
        if entry.get("op") != "prometheus.range" or not str(entry.get("selector", "")).startswith("ALERTS"):
            continue
        for series in entry.get("series") or []:
            metric = series.get("metric") or {}
            key = (alert_name(metric), str(metric.get("alertstate", "?")))
            samples.setdefault(key, set()).update(float(ts) for ts, _ in series.get("values") or [])
    spans = []
    for (alert, state), times in samples.items():
        ordered = sorted(times)
        steps = [b - a for a, b in pairwise(ordered)]
        step = statistics.median(steps) if steps else 0.0
        runs = [[ordered[0]]]
        for ts in ordered[1:]:
            if ts - runs[-1][-1] > GAP_FACTOR * step:
                runs.append([ts])
            else:
                runs[-1].append(ts)
        # a sample says the state held at that instant; it is drawn as holding until the next evaluation
        spans += [AlertSpan(alert, state, at(run[0] * 1000), at((run[-1] + step) * 1000)) for run in runs]
    return sorted(spans, key=lambda s: (s.start_s, s.alert, s.state))


def _notifications(entries: Sequence[dict[str, Any]], at: Callable[[float], float]) -> list[AlertMark]:
    """Every alert in every on-call message journalled (oncall.message), at its arrival."""
    marks = []
    for entry in entries:
        if entry.get("op") != "oncall.message":
            continue
        message = entry.get("message") or {}
        body = message.get("body")
        for alert in body.get("alerts", []) if isinstance(body, dict) else []:
            received = message.get("received_ms", entry["ts_ms"])
            marks.append(AlertMark(alert_name(alert.get("labels") or {}), str(alert.get("status", "?")), at(received)))
    return marks


def _versions(entries: Sequence[dict[str, Any]], at: Callable[[float], float]) -> list[VersionSegment]:
    """Runs of one version per component: the components probe, and the load balancer's version probe."""
    readings: list[tuple[float, dict[str, Any]]] = []
    for entry in entries:
        if entry.get("op") != "production.sample":
            continue
        if entry.get("probe") == COMPONENTS_PROBE and isinstance(entry.get("versions"), dict):
            readings.append((at(entry["ts_ms"]), entry["versions"]))
        elif entry.get("probe") == VERSION_PROBE:
            readings.append((at(entry["ts_ms"]), {PRODUCTION_LANE: entry.get("version")}))
    open_runs: dict[str, tuple[str, float, float]] = {}  # component -> (version, since, last seen)
    segments = []
    for ts, versions in readings:
        for component, version in versions.items():
            shown = NO_ANSWER if version is None else str(version)
            current = open_runs.get(component)
            if current is not None and current[0] != shown:
                segments.append(VersionSegment(component, current[0], current[1], ts))
                current = None
            open_runs[component] = (shown, current[1] if current else ts, ts)
    segments += [VersionSegment(c, v, since, last) for c, (v, since, last) in open_runs.items()]
    return sorted(segments, key=lambda s: (s.start_s, s.component))


def redact_timeline(data: TimelineData, secrets: Iterable[str]) -> TimelineData:
    """`data` with every secret fragment masked in every text it shows (names, labels, versions)."""
    secrets = [s for s in secrets if s]
    if not secrets:
        return data

    def mask(text: str) -> str:
        return redact(text, secrets)

    def masked(item: T) -> T:
        values = {f.name: getattr(item, f.name) for f in fields(item)}  # type: ignore[arg-type]
        return replace(item, **{k: mask(v) for k, v in values.items() if isinstance(v, str)})  # type: ignore[type-var]

    return replace(
        masked(data),
        runners=tuple(mask(r) for r in data.runners),
        jobs=tuple(masked(j) for j in data.jobs),
        faults=tuple(masked(f) for f in data.faults),
        alerts=tuple(masked(a) for a in data.alerts),
        notifications=tuple(masked(n) for n in data.notifications),
        versions=tuple(masked(v) for v in data.versions),
    )


# --- rendering ---

JOB_COLOURS = {"success": "tab:green", "failure": "tab:red", "cancelled": "tab:gray", None: "tab:blue"}
ALERT_COLOURS = {"pending": "gold", "firing": "tab:red"}
MARK_STYLES = {"firing": ("v", "darkred"), "resolved": ("^", "darkgreen")}
FAULT_COLOUR = "tab:orange"
VERSION_PALETTE = "tab10"
MAX_LABEL = 48


def _short(text: str, limit: int = MAX_LABEL) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def lanes(data: TimelineData) -> list[tuple[str, str]]:
    """The picture's rows, top to bottom: (kind, name) for runners, then alerts, then components."""
    return (
        [("runner", r) for r in data.runners]
        + [("alert", a) for a in data.alert_names]
        + [("version", c) for c in data.components]
    )


def render_png(data: TimelineData, width_in: float = 13.0, dpi: int = 100) -> bytes:
    """The timeline as PNG bytes (a picture saying there is nothing to draw when `data.empty`)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # imported when drawing: ~1 s, not at startup
    from matplotlib.figure import Figure

    rows = lanes(data)
    height = min(30.0, max(2.6, 1.7 + 0.38 * len(rows)))
    figure = Figure(figsize=(width_in, height), dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    started = datetime.fromtimestamp(data.start_ms / 1000, UTC).strftime("started %Y-%m-%d %H:%M:%S UTC")
    subtitle = started if data.start_ms else "no journal entries"
    ax.set_title(_short(data.scenario or "scenario", 110) + f"\n{subtitle}", fontsize=9, loc="left")
    ax.set_xlabel("seconds since the scenario started")
    ax.set_xlim(0, max(1.0, data.end_s) * 1.01)
    if data.empty:
        ax.set_yticks([])
        ax.text(
            0.5,
            0.5,
            "nothing to draw: the journal holds no jobs, faults, alerts or production samples",
            ha="center",
            va="center",
            transform=ax.transAxes,
            fontsize=9,
        )
        return _png(figure)
    y = {row: i for i, row in enumerate(rows)}
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_yticks(range(len(rows)), [f"{kind} {_short(name)}" for kind, name in rows], fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    handles: dict[str, Any] = {}
    _draw_faults(ax, data, handles)
    _draw_jobs(ax, data, y, handles)
    _draw_alerts(ax, data, y, handles)
    _draw_versions(ax, data, y, handles)
    ax.legend(handles.values(), handles.keys(), loc="upper left", bbox_to_anchor=(1.005, 1), fontsize=7)
    return _png(figure)


def _png(figure: Figure) -> bytes:
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def _draw_faults(ax: Any, data: TimelineData, handles: dict[str, Any]) -> None:
    from matplotlib.patches import Patch

    for i, fault in enumerate(data.faults):
        end = fault.end_s if fault.end_s is not None else data.end_s
        ax.axvspan(fault.start_s, end, color=FAULT_COLOUR, alpha=0.15, hatch=None if fault.end_s is not None else "//")
        label = fault.label + ("" if fault.end_s is not None else " (not reverted)")
        ax.text(
            fault.start_s,
            0.99 - 0.06 * (i % 4),
            " " + _short(label),
            transform=ax.get_xaxis_transform(),
            fontsize=7,
            va="top",
            color="saddlebrown",
            clip_on=True,
        )
    if data.faults:
        handles["fault window"] = Patch(color=FAULT_COLOUR, alpha=0.3)


def _draw_jobs(ax: Any, data: TimelineData, y: dict[tuple[str, str], int], handles: dict[str, Any]) -> None:
    from matplotlib.patches import Patch

    for job in data.jobs:
        end = job.end_s if job.end_s is not None else data.end_s
        colour = JOB_COLOURS.get(job.conclusion, "tab:purple")
        row = y[("runner", job.runner)]
        ax.broken_barh(
            [(job.start_s, max(end - job.start_s, max(1.0, data.end_s) * 0.004))],  # a 0-s job stays visible
            (row - 0.35, 0.7),
            facecolors=colour,
            edgecolor="black",
            linewidth=0.5,
            alpha=0.85,
        )
        ax.text(
            job.start_s,
            row,
            f" {job.job}" + (f" #{job.run_id}" if job.run_id is not None else ""),
            va="center",
            fontsize=7,
            clip_on=True,
        )
        handles[f"job {job.conclusion or 'not seen completed'}"] = Patch(color=colour, alpha=0.85)


def _draw_alerts(ax: Any, data: TimelineData, y: dict[tuple[str, str], int], handles: dict[str, Any]) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    for span in data.alerts:
        row = y[("alert", span.alert)]
        colour = ALERT_COLOURS.get(span.state, "tab:purple")
        if span.end_s > span.start_s:
            ax.broken_barh([(span.start_s, span.end_s - span.start_s)], (row - 0.25, 0.5), facecolors=colour)
        else:
            ax.plot([span.start_s], [row], marker="|", markersize=14, color=colour)
        handles[f"alert {span.state}"] = Patch(color=colour)
    for mark in data.notifications:
        marker, colour = MARK_STYLES.get(mark.status, ("o", "black"))
        ax.plot(
            [mark.at_s], [y[("alert", mark.alert)] - 0.3], marker=marker, color=colour, markersize=8, linestyle="none"
        )
        handles[f"on-call told: {mark.status}"] = Line2D([], [], marker=marker, color=colour, linestyle="none")


def _draw_versions(ax: Any, data: TimelineData, y: dict[tuple[str, str], int], handles: dict[str, Any]) -> None:
    from matplotlib.patches import Patch

    palette = version_palette(sorted({v.version for v in data.versions if v.version != NO_ANSWER}))
    for segment in data.versions:
        row = y[("version", segment.component)]
        colour = palette.get(segment.version, "lightgray")
        hatch = "//" if segment.version == NO_ANSWER else None
        if segment.end_s > segment.start_s:
            ax.broken_barh(
                [(segment.start_s, segment.end_s - segment.start_s)],
                (row - 0.3, 0.6),
                facecolors=colour,
                hatch=hatch,
                edgecolor="white",
                linewidth=0.3,
            )
        else:
            ax.plot([segment.start_s], [row], marker="s", markersize=6, color=colour, linestyle="none")
        handles[f"version {_short(segment.version, 24)}"] = Patch(facecolor=colour, hatch=hatch)


def version_palette(versions: Sequence[str]) -> dict[str, Any]:
    """A distinct colour per version, in the order given (the palette cycles past its size)."""
    from matplotlib import colormaps

    colours = colormaps[VERSION_PALETTE].colors  # type: ignore[attr-defined]
    return {v: colours[i % len(colours)] for i, v in enumerate(versions)}
