"""Ratios, targets and the printed table, all computed from the figures of the run at hand."""

from __future__ import annotations

from bench import live


def _rate(result: dict, name: str, concurrency: int, figure: str = "per_second") -> float | None:
    return result.get("throughput", {}).get(name, {}).get(str(concurrency), {}).get(figure)


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    return round(numerator / denominator, 3) if numerator and denominator else None


def ratios(result: dict) -> dict:
    levels = result["plan"]["concurrency"]
    return {
        str(c): {
            "create_vs_floor_update_with_start": _ratio(_rate(result, "create", c), _rate(result, "floor_update_with_start", c)),
            "create_vs_floor_start": _ratio(_rate(result, "create", c), _rate(result, "floor_start", c)),
            "transition_vs_floor_update": _ratio(_rate(result, "transition", c), _rate(result, "floor_update", c)),
            "transition_vs_floor_update_local": _ratio(_rate(result, "transition", c), _rate(result, "floor_update_local", c)),
            "transition_p99_vs_floor_update_p99": _ratio(_rate(result, "transition", c, "p99_ms"), _rate(result, "floor_update", c, "p99_ms")),
        }
        for c in levels
    }


def durability(result: dict) -> dict:
    """Each phase on the shipped Temporal store (synchronous=full) against the compared one, same run:
    throughput full/compared, p50 latency full/compared."""
    found = {}
    for variant, compared in result.get("durability", {}).items():
        found[variant] = {
            name: {
                level: {
                    "per_second": _ratio(row.get("per_second"), compared[name].get(level, {}).get("per_second")),
                    "p50_ms": _ratio(row.get("p50_ms"), compared[name].get(level, {}).get("p50_ms")),
                }
                for level, row in by_level.items()
            }
            for name, by_level in result["throughput"].items()
            if name in compared
        }
    return found


def _throughput_targets(found: dict, level: int, topology: str = "") -> list[dict]:
    """Issue #21's goals at the top concurrency, each a ratio to the floor measured in the same run."""
    return [
        {
            "target": f"{topology}transitions/s >= 0.5 x floor updates/s (concurrency {level})",
            "measured": found["transition_vs_floor_update"],
            "limit": 0.5,
        },
        {
            "target": f"{topology}transition p99 <= 3 x floor update p99 (concurrency {level})",
            "measured": found.get("transition_p99_vs_floor_update_p99"),
            "limit": 3,
            "at_most": True,
        },
        {
            "target": f"{topology}creations/s >= 0.8 x floor update-with-start/s (concurrency {level})",
            "measured": found["create_vs_floor_update_with_start"],
            "limit": 0.8,
        },
    ]


def targets(result: dict) -> list[dict]:
    top = max(result["plan"]["concurrency"])
    rows = _throughput_targets(result["ratios"][str(top)], top) if result.get("throughput") else []
    serve = result.get("serve")
    if serve:
        rows += _throughput_targets(serve["processes"]["ratios"], serve["concurrency"], "casework serve: ")
    for database, figures in result.get("list", {}).items():
        if "sizes" not in figures:
            continue
        largest = max(figures["sizes"], key=int)
        rows.append(
            {
                "target": f"GET /cases p99 < 20 ms at {int(largest):,} cases ({database})",
                "measured": figures["sizes"][largest]["http"]["p99_ms"],
                "limit": 20,
                "below": True,
            }
        )
        for figure, what in (("search", "GET /cases?q= (Chinese substrings)"), ("counts", "GET /cases/counts")):
            if figure in figures["sizes"][largest]:
                rows.append(
                    {
                        "target": f"{what} p99 < 100 ms at {int(largest):,} cases ({database})",
                        "measured": figures["sizes"][largest][figure]["p99_ms"],
                        "limit": 100,
                        "below": True,
                    }
                )
        pages = figures["sizes"][largest].get("console")
        if pages:
            for figure, what in (
                ("queue", "console queue page (全部案件, 50 rows, counts)"),
                ("search", "console search, slowest query"),
                ("case_page", "console case page, 100 events"),
            ):
                rows.append(
                    {
                        "target": f"{what} p99 < 100 ms at {int(largest):,} cases ({database})",
                        "measured": pages[figure]["p99_ms"],
                        "limit": 100,
                        "below": True,
                    }
                )
            rows.append(
                {
                    "target": f"console scripts and styles < 60 KB compressed ({database})",
                    "measured": pages["assets_gzip_kb"],
                    "limit": 60,
                    "below": True,
                }
            )
        kpi_figures = figures["sizes"][largest].get("kpis")
        if kpi_figures:
            rows.append(
                {
                    "target": f"GET /kpis p99 < 200 ms at {int(largest):,} cases ({database})",
                    "measured": kpi_figures["p99_ms"],
                    "limit": 200,
                    "below": True,
                }
            )
        growth = max(figures["growth_p50"], figures["growth_p99"])
        rows.append({"target": f"GET /cases growth 10k -> 100k < 2x, p50 and p99 ({database})", "measured": growth, "limit": 2, "below": True})
    for database, figures in result.get("kpis", {}).items():
        sizes = sorted(figures.get("sizes", {}), key=int)
        if len(sizes) < 2:
            continue
        smaller, largest = (figures["sizes"][size]["kpis"] for size in (sizes[0], sizes[-1]))
        rows.append(
            {
                "target": f"GET /kpis p99 < 200 ms at {int(sizes[0]):,} cases, KPI part ({database})",
                "measured": smaller["p99_ms"],
                "limit": 200,
                "below": True,
            }
        )
        growth = round(largest["p99_ms"] / smaller["p99_ms"], 2)
        rows.append(
            {
                "target": f"GET /kpis p99 at {int(sizes[-1]):,} < 2x at {int(sizes[0]):,} cases ({database})",
                "measured": growth,
                "limit": 2,
                "below": True,
            }
        )
    memory = result.get("memory", {})
    if memory:
        rows.append(
            {
                "target": f"worker RSS < 500 MB at {memory['open_cases']:,} open cases",
                "measured": memory["worker_rss_mb"],
                "limit": 500,
                "below": True,
            }
        )
    rows += live.targets(result.get("live", {}))
    for row in rows:
        value = row["measured"]
        below, at_most = row.pop("below", False), row.pop("at_most", False)
        row["met"] = None if value is None else (value < row["limit"] if below else value <= row["limit"] if at_most else value >= row["limit"])
    return rows


def _fmt(value, digits: int = 1) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,}"


SERVE_TOPOLOGIES = {"processes": "casework serve (API, worker: processes of their own)", "one_process": "casework serve --one-process"}
SERVE_PHASES = {
    "floor_update_with_start": "floor: update-with-start",
    "create": "Casework: POST /cases",
    "floor_update": "floor: update",
    "transition": "Casework: POST /transitions",
}


def _serve_lines(serve: dict | None) -> list[str]:
    """The `casework serve` topology: each phase on both, CPU per operation by process of the tree."""
    if not serve:
        return []
    lines = ["", f"The `casework serve` topology, embedded Temporal, concurrency {serve['concurrency']}, same run:"]
    for topology, label in SERVE_TOPOLOGIES.items():
        figures = serve[topology]
        memory = ", ".join(f"{process} {_fmt(mb)}" for process, mb in figures.get("rss_mb", {}).items())
        lines.append(f"  {label} (ready in {figures['seconds_to_start']} s; RSS MB after the load: {memory})")
        for key, name in SERVE_PHASES.items():
            row = figures[key]
            cpu = row.get("cpu_ms_per_op", {})
            by_process = ", ".join(f"{process} {_fmt(ms)}" for process, ms in cpu.items() if process != "total")
            lines.append(
                f"    {name:<32}{_fmt(row['per_second']):>10} ops/s  p50 {_fmt(row['p50_ms'])}  p99 {_fmt(row['p99_ms'])} ms"
                f"  errors {row['errors']}  CPU ms/op {_fmt(cpu.get('total'))} ({by_process})"
            )
        found = figures["ratios"]
        lines.append(
            f"    ratio transition/update {_fmt(found['transition_vs_floor_update'], 2)}"
            f"  create/update-with-start {_fmt(found['create_vs_floor_update_with_start'], 2)}"
        )
    return lines


def table(result: dict) -> str:
    lines = []
    setup = result["setup"]
    lines.append(f"Casework bench ({result['plan']['name']}), {setup['started_at']}, {setup['seconds']} s")
    machine = setup["machine"]
    lines.append(
        f"  {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB; load {machine['load_average_at_start']} -> {machine.get('load_average_at_end')}"
    )
    versions = setup["versions"]
    lines.append(
        f"  temporalio {versions['temporalio']}, temporal CLI {versions['temporal_cli']!s:.40}, Python {versions['python']}, commit {versions['casework_commit']}"
    )
    lines.append("")
    lines.append(
        f"{'operation':<36}{'conc':>5}{'ops/s':>10}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}  CPU ms/op: total (temporal, worker, api)"
    )
    names = {
        "floor_start": "floor: workflow start",
        "floor_update_with_start": "floor: update-with-start",
        "create": "Casework: POST /cases",
        "floor_update": "floor: update",
        "floor_update_local": "floor: update + local activity",
        "transition": "Casework: POST /transitions",
    }
    for concurrency in result["plan"]["concurrency"] if result.get("throughput") else ():
        for key, label in names.items():
            row = result["throughput"][key].get(str(concurrency))
            if row:
                cpu = row.get("cpu_ms_per_op", {})
                parts = ", ".join(
                    _fmt(cpu.get(name))
                    for name in ("temporal", "worker" if "floor" not in key else "floor", "api")
                    if not ("floor" in key and name == "api")
                )
                lines.append(
                    f"{label:<36}{concurrency:>5}{_fmt(row['per_second']):>10}{_fmt(row['p50_ms']):>9}{_fmt(row['p95_ms']):>9}{_fmt(row['p99_ms']):>9}{row['errors']:>8}  {_fmt(cpu.get('total'))} ({parts})"
                )
        found = result["ratios"][str(concurrency)]
        lines.append(
            f"{'  ratio Casework/floor':<36}{concurrency:>5}   create/uws {_fmt(found['create_vs_floor_update_with_start'], 2)}"
            f"  create/start {_fmt(found['create_vs_floor_start'], 2)}  transition/update {_fmt(found['transition_vs_floor_update'], 2)}"
            f"  transition/update+local {_fmt(found.get('transition_vs_floor_update_local'), 2)}"
        )
    for variant, phases in result.get("durability_ratios", {}).items():
        lines.append("")
        lines.append(f"Temporal store synchronous=full against {variant.removeprefix('temporal_synchronous_')}, same run (ops/s ratio, p50 ratio):")
        for concurrency in result["plan"]["concurrency"]:
            for key, label in names.items():
                found = phases.get(key, {}).get(str(concurrency))
                compared = result["durability"][variant][key].get(str(concurrency))
                if found and compared:
                    lines.append(
                        f"{label:<36}{concurrency:>5}  {_fmt(compared['per_second'])} -> {_fmt(result['throughput'][key][str(concurrency)]['per_second'])} ops/s"
                        f" (x{_fmt(found['per_second'], 2)}), p50 {_fmt(compared['p50_ms'])} -> {_fmt(result['throughput'][key][str(concurrency)]['p50_ms'])} ms (x{_fmt(found['p50_ms'], 2)})"
                    )
    lines += _serve_lines(result.get("serve"))
    lines.append("")
    for database, figures in result.get("list", {}).items():
        if "sizes" not in figures:
            lines.append(f"GET /cases on {database}: skipped ({figures.get('skipped')})")
            continue
        for size, row in figures["sizes"].items():
            http, direct = row["http"], row["read_model"]
            worst = max(http["by_query"].items(), key=lambda item: item[1]["p99_ms"] or 0)
            lines.append(
                f"GET /cases {database:<9}{int(size):>8,} cases  p50 {_fmt(http['p50_ms'])} ms  p99 {_fmt(http['p99_ms'])} ms"
                f"  (read model alone p50 {_fmt(direct['p50_ms'])}, p99 {_fmt(direct['p99_ms'])}; slowest: {worst[0]} p99 {_fmt(worst[1]['p99_ms'])})"
            )
        lines.append(f"  growth 10k -> 100k: p50 x{figures['growth_p50']}, p99 x{figures['growth_p99']}")
        for figure, what in (("search", "GET /cases?q="), ("counts", "GET /cases/counts")):
            for size, row in figures["sizes"].items():
                if figure in row:
                    found = row[figure]
                    worst = max(found["by_query"].items(), key=lambda item: item[1]["p99_ms"] or 0)
                    lines.append(
                        f"{what:<17} {database:<9}{int(size):>8,} cases  p50 {_fmt(found['p50_ms'])} ms  p99 {_fmt(found['p99_ms'])} ms"
                        f"  (slowest: {worst[0]} p99 {_fmt(worst[1]['p99_ms'])})"
                    )
        for size, row in figures["sizes"].items():
            if "console" in row:
                pages = row["console"]
                lines.append(
                    f"console   {database:<9}{int(size):>8,} cases  queue p50 {_fmt(pages['queue']['p50_ms'])} / p99 {_fmt(pages['queue']['p99_ms'])} ms"
                    f"  search p99 {_fmt(pages['search']['p99_ms'])} ms  case page p50 {_fmt(pages['case_page']['p50_ms'])} / p99 {_fmt(pages['case_page']['p99_ms'])} ms"
                    f"  assets {pages['assets_gzip_kb']} KB gzip"
                )
        for size, row in figures["sizes"].items():
            if "projection" in row:
                alone = row["projection"]
                lines.append(
                    f"ReadModel.project {database:<9}{int(size):>8,} cases  p50 {_fmt(alone['p50_ms'], 2)} ms  p99 {_fmt(alone['p99_ms'], 2)} ms"
                    f"  (this process's CPU {_fmt(alone['process_cpu_ms'], 2)} ms per event, {alone['events']} events)"
                )
            if "projection_synchronous_full" in row:
                alone = row["projection_synchronous_full"]
                lines.append(
                    f"  the same with synchronous=FULL     p50 {_fmt(alone['p50_ms'], 2)} ms  p99 {_fmt(alone['p99_ms'], 2)} ms"
                    f"  (this process's CPU {_fmt(alone['process_cpu_ms'], 2)} ms per event)"
                )
        for size, row in figures["sizes"].items():
            for form, export in row.get("exports", {}).items():
                lines.append(
                    f"GET /audit/cases?format={form:<5}{int(size):>8,} cases  {_fmt(export['seconds'])} s  {_fmt(export['mib'])} MiB"
                    f"  (API memory peak +{_fmt(export['api_peak_rss_growth_mb'])} MiB over {_fmt(export['api_rss_mb_before'])})"
                )
        for size, row in figures["sizes"].items():
            if "kpis" in row:
                kpi_figures = row["kpis"]
                worst = max(kpi_figures["by_query"].items(), key=lambda item: item[1]["p99_ms"] or 0)
                lines.append(
                    f"GET /kpis  {database:<9}{int(size):>8,} cases  p50 {_fmt(kpi_figures['p50_ms'])} ms  p99 {_fmt(kpi_figures['p99_ms'])} ms"
                    f"  (slowest: {worst[0]} p99 {_fmt(worst[1]['p99_ms'])})"
                )
    for database, figures in result.get("kpis", {}).items():
        for size, row in figures.get("sizes", {}).items():
            lines.append(
                f"GET /kpis alone  {database:<9}{int(size):>9,} cases  p50 {_fmt(row['kpis']['p50_ms'])} ms  p99 {_fmt(row['kpis']['p99_ms'])} ms"
            )
            for query, timings in row["kpis"]["by_query"].items():
                lines.append(f"    {query:<30}  p50 {_fmt(timings['p50_ms'])} ms  p99 {_fmt(timings['p99_ms'])} ms")
    memory = result.get("memory")
    if memory:
        lines.append("")
        lines.append(
            f"worker RSS: {memory['worker_rss_mb']} MiB with {memory['open_cases']:,} open cases (at start {memory['worker_rss_mb_at_start']} MiB)"
        )
        if memory.get("note"):
            lines.append(f"  note: {memory['note']}")
    checked = result.get("sweep")
    if checked:
        lines.append("")
        idle = "" if checked.get("idle_before", True) else " (the worker or Temporal still busy after a minute's wait)"
        lines.append(
            f"reconciliation sweep, the check of {checked['cases_checked']:,} of the {checked['cases_projected_in_the_run']:,} cases the run changed{idle}:"
        )
        for name in ("history_end", "query_each"):
            figures = checked[name]
            cpu = ", ".join(f"{process} {_fmt(ms, 2)}" for process, ms in figures["cpu_ms_per_case"].items())
            lines.append(f"  {name:<12} {_fmt(figures['cases_per_second'])} cases/s, {figures['in_doubt']} in doubt; CPU ms per case: {cpu}")
    live_lines = live.lines(result.get("live", {}))
    if live_lines:
        lines += ["", *live_lines]
    lines.append("")
    lines.append("targets:")
    for row in result["targets"]:
        verdict = {True: "met", False: "NOT met", None: "not measured"}[row["met"]]
        lines.append(f"  {row['target']:<66} {_fmt(row['measured'], 2):>8}  {verdict}")
    return "\n".join(lines)
