"""`make bench`: Courier's paths against the raw limit and the naive client, measured in the same run.

Every measurement runs in a fresh process (its peak memory is its own); S3 lives in moto's server process and the
destinations in bench.servers, keeping counts only. Writes bench/RESULTS.md, bench/throughput.png and the docs' cost
table (docs/_snippets/costs.md), each door's AWS cost per million records from the calls counted in the run."""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import costs

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
COSTS_SNIPPET = ROOT / "docs" / "_snippets" / "costs.md"  # included by docs/performance.md
BUCKET, TABLE, QUEUE = "bench-data", "bench-ledger", "bench-ingest"


def free_ports(count: int) -> list[int]:
    """Ports free now, all different (held open together while they are chosen)."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [int(probe.getsockname()[1]) for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def environment(aws_port: int, appmetrica_port: int, altcraft_port: int) -> dict[str, str]:
    from infra.template import load_template

    variables = load_template()["Globals"]["Function"]["Environment"]["Variables"]
    return {
        **os.environ,
        **{name: value for name, value in variables.items() if isinstance(value, str)},  # the functions' settings
        "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'layers' / 'common'}",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{aws_port}",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "DATA_BUCKET": BUCKET,
        "IDEMPOTENCY_TABLE": TABLE,
        "INGEST_QUEUE_URL": f"http://127.0.0.1:{aws_port}/123456789012/{QUEUE}",
        "APPMETRICA_API_URL": f"http://127.0.0.1:{appmetrica_port}",
        "APPMETRICA_POST_API_KEY": "bench-post-api-key",
        "APPMETRICA_APPLICATION_ID": "1111",
        "ALTCRAFT_API_URL": f"http://127.0.0.1:{altcraft_port}",
        "ALTCRAFT_API_TOKEN": "bench-token",
        "ALTCRAFT_DB_ID": "1",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }


# The events as a CRM export names them, times in Moscow to the second: read through this mapping (renames, one
# timestamp format, one constant), they are the same events as the unmapped file's.
CRM_MAPPING = """\
fields:
  profile_id: Клиент
  event_name: Событие
  event_json: Параметры
  event_timestamp: {from: Время (МСК), timestamp: {format: "%d.%m.%Y %H:%M:%S", zone: Europe/Moscow}}
constants:
  session_type: foreground
"""
MAPPED = "appmetrica_events_mapped"  # the events function, its file under the mapping's folder
# pure transport (the file's bytes into requests) and the events function, both against the destination that only
# counts lines: Courier's own cost, without the emulator's parsing in the limit
TRANSPORT, COUNTED = "transport", "appmetrica_events_counted"
PROFILES_COUNTED = "appmetrica_profiles_counted"  # profiles against the same destination: no emulator's hashing
COUNTED_PATHS = {TRANSPORT: "appmetrica_events", COUNTED: "appmetrica_events", PROFILES_COUNTED: "appmetrica_profiles"}
MEASURED_SECTION = ("<!-- --8<-- [start:measured] -->", "<!-- --8<-- [end:measured] -->")  # what docs include
MAPPING_SECTION = ("<!-- mapping: start -->", "<!-- mapping: end -->")


def write_file(kind: str, rows: int) -> Path:
    """Generated data: events (also as a CRM export names them), profiles with three first-party values each,
    Altcraft profiles."""
    ts = int(time.time()) - 3600
    path = Path(tempfile.mkstemp(suffix=".csv", prefix=f"courier-bench-{kind}-")[1])
    with path.open("w", encoding="utf-8") as out:
        if kind == "events":
            out.write("profile_id,event_name,event_timestamp,session_type,event_json\n")
            for n in range(rows):
                out.write(f'user-{n},purchase,{ts},foreground,"{{""sku"":""A-{n % 97}"",""qty"":{n % 5}}}"\n')
        elif kind == "events_crm":  # a different second of the last day on every row: no time is parsed twice
            out.write("Клиент,Событие,Время (МСК),Параметры\n")
            for n in range(rows):
                moscow = time.strftime("%d.%m.%Y %H:%M:%S", time.gmtime(ts - n % 86400 + 3 * 3600))
                out.write(f'user-{n},purchase,{moscow},"{{""sku"":""A-{n % 97}"",""qty"":{n % 5}}}"\n')
        elif kind == "profiles":
            out.write("profile_id,attributes.level,phone,email,telegram\n")
            for n in range(rows):
                out.write(
                    f"crm-{n},gold,+7 (916) {n % 1000:03d}-{n // 1000 % 100:02d}-{n % 97:02d},"
                    f"User.{n}+x@GoogleMail.com,@User{n}\n"
                )
        else:
            out.write("email,_fname,phones\n")
            for n in range(rows):
                out.write(f"p{n}@example.com,Person {n},+7900{n:07d}\n")
    return path


def measure(env: dict[str, str], path: str, key: str, *given: str) -> dict[str, Any]:
    """One path in a process of its own; stream and webhooks are given the function that takes their records (and,
    if not one, the records a message or a call)."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.measure", path, key, *given],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"{' '.join((path, *given))} on {key} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["rows_per_s"] = result["rows"] / result["seconds"]
    return result


def import_seconds(env: dict[str, str], modules: list[str], runs: int = 15) -> dict[str, float]:
    """The median time to import each module in a fresh process; the modules take turns, so drift hits all alike."""
    times: dict[str, list[float]] = {module: [] for module in modules}
    for _ in range(runs):
        for module in modules:
            code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
            done = subprocess.run(
                [sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True, text=True
            )
            times[module].append(float(done.stdout))
    return {module: statistics.median(values) for module, values in times.items()}


def layer_zip_mb() -> float | None:
    built = ROOT / ".aws-sam" / "build" / "CommonLayer"
    if not built.is_dir():
        return None
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in built.rglob("*"):
            if file.is_file():
                archive.write(file, file.relative_to(built))
    return buffer.tell() / 1024 / 1024


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench")
    parser.add_argument("--sizes", default="10000,100000,1000000,5000000")
    parser.add_argument("--profile-max", type=int, default=1_000_000)
    parser.add_argument("--altcraft-max", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=100_000, help="single-event SQS messages (0: none)")
    parser.add_argument("--calls", type=int, default=10_000, help="single-event HTTPS calls (0: none)")
    parser.add_argument(
        "--streamed-max",
        type=int,
        default=2_000,
        help="at most this many messages and calls for the other streamed functions (the cost table's rows)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="measure each file this many times; the median counts")
    parser.add_argument(
        "--repeat-max", type=int, default=1_000_000, help="files larger than this are measured once (memory's sizes)"
    )
    parser.add_argument(
        "--mapping-only",
        action="store_true",
        help="only the events file unmapped and through a mapping; rewrites the mapping section of RESULTS.md",
    )
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    ports = free_ports(4)
    env = environment(*ports[:3])
    counted = {**env, "APPMETRICA_API_URL": f"http://127.0.0.1:{ports[3]}"}  # the destination that only counts lines
    servers = [
        start_server(env, "aws", ports[:1]),
        start_server(env, "destinations", ports[1:3]),
        start_server(env, "counting", ports[3:]),
    ]
    try:
        import boto3

        os.environ.update(
            {
                k: env[k]
                for k in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")
            }
        )
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        boto3.client("dynamodb").create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        )
        boto3.client("sqs").create_queue(QueueName=QUEUE)
        boto3.client("s3").put_object(
            Bucket=BUCKET, Key="mappings/appmetrica_events/crm.yaml", Body=CRM_MAPPING.encode("utf-8")
        )
        results: list[dict[str, Any]] = []
        for size in sizes:
            plan = [("events", "appmetrica_events"), ("events_crm", MAPPED)]
            if not args.mapping_only:
                plan[:0] = [("events", TRANSPORT), ("events", COUNTED), ("events", "limit")]
            if size <= args.profile_max and not args.mapping_only:
                plan += [("profiles", PROFILES_COUNTED), ("profiles", "appmetrica_profiles")]
            if size <= args.altcraft_max and not args.mapping_only:
                plan.append(("altcraft", "altcraft_profile_import"))
            files: dict[tuple[str, int, bool], str] = {}
            measured: dict[str, list[dict[str, Any]]] = {}
            turns = args.repeat if size <= args.repeat_max else 1
            for turn in range(turns):  # the paths take turns, so a busy moment of the machine hits all alike
                for kind, path in plan:
                    function = COUNTED_PATHS.get(path) or ("appmetrica_events" if path in ("limit", MAPPED) else path)
                    # each turn its own object, and a counted run its own: the ledger knows the last one sent
                    counted_run = path in (COUNTED, PROFILES_COUNTED)
                    own = (kind, turn, counted_run)
                    if own not in files:
                        local = write_file(kind, size)
                        folder = f"{function}/crm" if path == MAPPED else function
                        suffix = ("-counted" if counted_run else "") + (f"-{turn}" if turn else "")
                        files[own] = f"{folder}/{kind}-{size}{suffix}.csv"
                        boto3.client("s3").upload_file(str(local), BUCKET, files[own])
                        local.unlink()
                    where = counted if path in COUNTED_PATHS else env
                    result = measure(where, "limit" if path in ("limit", TRANSPORT) else function, files[own])
                    measured.setdefault(path, []).append(result)
                    print(
                        f"{size:>9,} rows  {path:<24} {result['rows_per_s']:>12,.0f} rows/s  "
                        f"{result['peak_mb']:>7.1f} MB",
                        flush=True,
                    )
            for path, runs in measured.items():  # the median run of each path, and every run's rate
                median = sorted(runs, key=lambda r: r["rows_per_s"])[len(runs) // 2]
                results.append({"size": size, "path": path, **median, "turns": [r["rows_per_s"] for r in runs]})
        given = " ".join(argv or sys.argv[1:])
        command = f'make bench BENCH_ARGS="{given}"' if given else "make bench"
        if args.mapping_only:
            write_mapping_section(results, command)
            return
        naive = measure(env, "naive", f"appmetrica_events/events-{sizes[0]}.csv")
        print(f"naive: {naive['rows_per_s']:,.0f} rows/s ({naive['rows']} one-event requests)", flush=True)
        streams: dict[tuple[str, str], dict[str, Any]] = {}
        for path, function, count in streaming_plan(args):
            streams[(path, function)] = measure(env, path, str(count), function)
            print(f"{path} {function}: {per_thousand(streams[(path, function)])}", flush=True)
        if args.messages:  # the same stream with the ledger in memory: Courier's own cost, without moto's DynamoDB
            without = measure({**env, "IDEMPOTENCY_TABLE": ""}, "stream", str(args.messages), EVENTS)
            streams[("stream_without_table", EVENTS)] = without
            print(f"stream_without_table {EVENTS}: {per_thousand(without)}", flush=True)
        for path, count in (("stream", args.messages), ("webhooks", args.calls)):
            if count:  # the same records, PACKED a message or a call: what records per message do to the cost
                streams[(f"{path}_packed", EVENTS)] = measure(env, path, str(count), EVENTS, str(PACKED))
                print(f"{path}_packed {EVENTS}: {per_thousand(streams[(f'{path}_packed', EVENTS)])}", flush=True)
        imported = import_seconds(env, ["boto3", "functions.appmetrica_events.app"])
        imports = {"boto3": imported["boto3"], "handler": imported["functions.appmetrica_events.app"]}
        priced = cost_lines(results, streams, command)
        print("\n".join(priced), flush=True)
        COSTS_SNIPPET.write_text("\n".join(priced) + "\n", encoding="utf-8")
        print("\n".join(write_results(results, naive, streams, imports, layer_zip_mb(), command, priced)), flush=True)
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()


def start_server(env: dict[str, str], kind: str, ports: list[int]) -> subprocess.Popen[str]:
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.servers", kind, *map(str, ports)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL if kind == "aws" else None,  # moto logs every request
        text=True,
    )
    if server.stdout is None or server.stdout.readline().strip() != "ready":
        server.kill()
        raise RuntimeError(f"the bench's {kind} server did not start")
    return server


EVENTS = "appmetrica_events"
PACKED = 10  # records a message, or a call, in the packed streams
# the functions the cost table prices at every door: AppMetrica's events and profiles, Altcraft's import
COSTED = (EVENTS, "appmetrica_profiles", "altcraft_profile_import")


def streaming_plan(args: argparse.Namespace) -> list[tuple[str, str, int]]:
    """(path, function, records): the events function at the full counts, the others at most --streamed-max
    (altcraft_profile_import is paced by ALTCRAFT_MAX_RPS, and the cost per record does not need more)."""
    plan = []
    for function in COSTED:
        for path, count in (("stream", args.messages), ("webhooks", args.calls)):
            count = count if function == EVENTS else min(count, args.streamed_max)
            if count:
                plan.append((path, function, count))
    return plan


def per_thousand(result: dict[str, Any]) -> str:
    thousands = result["rows"] / 1000
    return (
        f"{result['rows_per_s']:,.0f} rows/s, {result['requests'] / thousands:.1f} destination requests and "
        f"{result['ledger_calls'] / thousands:.1f} ledger calls ({result.get('write_units', 0) / thousands:,.0f} "
        f"write and {result.get('read_units', 0) / thousands:,.0f} read units) per 1,000 records, "
        f"{result['peak_mb']:.0f} MB"
    )


def write_results(
    results: list[dict[str, Any]],
    naive: dict[str, Any],
    streams: dict[tuple[str, str], dict[str, Any]],
    imports: dict[str, float],
    layer_mb: float | None,
    command: str,
    priced: list[str],
) -> list[str]:
    """Writes RESULTS.md and the plot; gives the table of file paths with its notes, to print."""
    by = {(r["size"], r["path"]): r for r in results}
    sizes = sorted({r["size"] for r in results})
    lines = [
        "# Benchmark results",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}. Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. "
        f"Command: `{command}`.",
        "",
        MEASURED_SECTION[0],
        "Every path runs in its own process against moto's S3 server and the emulators (in another process, keeping "
        "counts only): **limit** streams the object's bytes into requests of 100,000 lines with no parsing, to the "
        "emulator, which parses and checks each row as the API would; **transport** does the same against a "
        "destination that only counts each request's lines (pure transport: what no Courier code can beat); a "
        "function's name is the real function path (S3 notification → `lambda_handler` → destination over HTTP, "
        "ledger table included), to the emulator, and `…_counted` the same function to the counting destination "
        "(Courier's own cost); **naive** sends one request per event. With --repeat, each path is the median of its "
        "runs, the paths taking turns.",
        "",
        "| rows | path | rows/s | / transport | / limit | / naive | peak memory (MB) |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for size in sizes:
        transport, limit = by.get((size, TRANSPORT)), by.get((size, "limit"))
        for path in (TRANSPORT, "limit", *TABLE_PATHS):
            row = by.get((size, path))
            if row is None:
                continue
            ratios = [
                f"{row['rows_per_s'] / base['rows_per_s']:.2f}" if base and path not in (TRANSPORT, "limit") else ""
                for base in (transport, limit)
            ]
            vs_naive = f"{row['rows_per_s'] / naive['rows_per_s']:,.0f}×" if path not in (TRANSPORT, "limit") else ""
            lines.append(
                f"| {size:,} | {path} | {row['rows_per_s']:,.0f} | {' | '.join(ratios)} | {vs_naive} "
                f"| {row['peak_mb']:.0f} |"
            )
    lines += ["", *spread_lines(by, sizes), *memory_lines(by, sizes)]
    measured = lines[lines.index(MEASURED_SECTION[0]) + 1 :]
    lines += [
        f"- naive client: {naive['rows_per_s']:,.0f} rows/s ({naive['rows']:,} one-event requests).",
        f"- importing a handler: {imports['handler'] * 1000:.0f} ms, `import boto3`: {imports['boto3'] * 1000:.0f} ms "
        f"(ratio {imports['handler'] / imports['boto3']:.2f}).",
        f"- built layer, zipped: {layer_mb:.1f} MB." if layer_mb is not None else "- built layer: run `make build`.",
    ]
    lines += ["", *mapping_lines(results, command)]
    lines += streaming_lines(by, naive, streams)
    lines += ["", MEASURED_SECTION[1], "", "## Cost per million records", "", *priced]
    lines += ["", NOTES]
    (BENCH / "RESULTS.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    plot(results, sizes)
    return measured


TABLE_PATHS = (COUNTED, "appmetrica_events", PROFILES_COUNTED, "appmetrica_profiles", "altcraft_profile_import")


def spread_lines(by: dict[tuple[int, str], dict[str, Any]], sizes: list[int]) -> list[str]:
    """Each counted path's ratio to pure transport in every turn (against the transport of the same turn)."""
    lines = []
    for size in sizes:
        transport = by.get((size, TRANSPORT))
        for path in (COUNTED, PROFILES_COUNTED):
            row = by.get((size, path))
            if transport is None or row is None or len(row["turns"]) < 2:
                continue
            ratios = [r / t for r, t in zip(row["turns"], transport["turns"], strict=True)]
            lines.append(
                f"- `{path}` at {size:,} rows, {len(ratios)} runs: {min(row['turns']):,.0f}–{max(row['turns']):,.0f} "
                f"rows/s, {min(ratios):.2f}–{max(ratios):.2f} of pure transport "
                f"({', '.join(f'{ratio:.2f}' for ratio in ratios)})."
            )
    return lines


def memory_lines(by: dict[tuple[int, str], dict[str, Any]], sizes: list[int]) -> list[str]:
    """Peak memory of the largest file against the 100,000-row one (or the smallest), for each events path."""
    large = max(sizes)
    small = min((s for s in sizes if s >= 100_000), default=min(sizes))
    lines = []
    for path in (COUNTED, "appmetrica_events"):
        if (large, path) in by and (small, path) in by and large != small:
            peak, base = by[(large, path)]["peak_mb"], by[(small, path)]["peak_mb"]
            lines.append(
                f"- peak memory of `{path}` at {large:,} rows / at {small:,} rows: {peak:.0f} / {base:.0f} MB, "
                f"{peak / base:.2f}."
            )
    return lines


STREAM_PATHS = {
    "stream": "SQS: single-event messages, Lambda-shaped batches",
    "stream_without_table": "the same, ledger in memory (no table: Courier's own cost)",
    "webhooks": "HTTPS async door, one event a call, then its queue",
    "file": "a file of events (S3)",
    "naive": "naive client (one request an event)",
}
RATE_LIMIT = 30  # AppMetrica's documented requests per second per IP (about)


STREAM_NOTES = """\
What bounds streaming here is the ledger in moto. Each message costs three ledger items: read once (BatchGetItem, 100
keys a call), marked *sending* with its request and *done* after the answer (a conditional PutItem each, eight at a
time: one write unit each where a transaction's item costs two): per 1,000 messages 10 reads and 2,000 puts, 2,000
write and 1,000 read units. moto spends about 0.2–0.4 ms of Python on an item and, in one process, barely overlaps
calls, so the ledger takes most of the time. Against DynamoDB (not measured here; its usual latency) a put takes
some 5–10 ms and eight overlap, so 1,000 messages need about 1–2 s of ledger time and one destination request: records
per second per invocation, times the queue's MaximumConcurrency. Then AppMetrica's ~30 requests per second is the
limit: 30 × the records in a request. The HTTPS door's own cost is one SendMessage per call (moto's slows as its queue
grows, so the bench empties the queue between blocks of calls, outside the clock)."""


def mapping_lines(results: list[dict[str, Any]], command: str) -> list[str]:
    """The events file through a mapping beside the same events unmapped, measured in the same run."""
    by = {(r["size"], r["path"]): r for r in results}
    lines = [
        MAPPING_SECTION[0],
        "## Mappings: the events file through a realistic mapping",
        "",
        f"Command: `{command}` (with --repeat, the median of the runs, the two paths taking turns). "
        "The same events as a CRM export names them (`Клиент`, `Событие`, `Время (МСК)`, "
        "`Параметры`), dropped under `appmetrica_events/crm/` and read through `mappings/appmetrica_events/crm.yaml`: "
        "three renames, one timestamp format (`%d.%m.%Y %H:%M:%S`, Europe/Moscow, a different second on every row, "
        "so no time is parsed twice) and one constant (`session_type`). Target: at least 0.8 of the unmapped path.",
        "",
        "| rows | unmapped rows/s | mapped rows/s | mapped / unmapped | peak memory mapped (MB) |",
        "|---:|---:|---:|---:|---:|",
    ]
    turns: list[str] = []
    for size in sorted({size for size, path in by if path == MAPPED}):
        plain, mapped = by.get((size, "appmetrica_events")), by[(size, MAPPED)]
        if plain is None:
            continue
        lines.append(
            f"| {size:,} | {plain['rows_per_s']:,.0f} | {mapped['rows_per_s']:,.0f} "
            f"| {mapped['rows_per_s'] / plain['rows_per_s']:.2f} | {mapped['peak_mb']:.0f} |"
        )
        if len(mapped.get("turns", ())) > 1:
            ratios = [m / p for p, m in zip(plain["turns"], mapped["turns"], strict=True)]
            turns.append(f"- {size:,} rows, mapped / unmapped in each turn: {', '.join(f'{r:.2f}' for r in ratios)}.")
    return [*lines, *([""] if turns else []), *turns, MAPPING_SECTION[1]]


def write_mapping_section(results: list[dict[str, Any]], command: str) -> None:
    """RESULTS.md with its mapping section replaced (or added before the notes): a run of only that measurement."""
    path = BENCH / "RESULTS.md"
    text = path.read_text(encoding="utf-8")
    section = "\n".join(mapping_lines(results, command))
    start, end = text.find(MAPPING_SECTION[0]), text.find(MAPPING_SECTION[1])
    if start >= 0 and end > start:
        text = text[:start] + section + text[end + len(MAPPING_SECTION[1]) :]
    else:
        notes = text.find("## What bounds the numbers")
        text = text[:notes] + section + "\n\n" + text[notes:] if notes >= 0 else text + "\n" + section + "\n"
    path.write_text(text, encoding="utf-8")
    print(section)


def streaming_lines(
    by: dict[tuple[int, str], dict[str, Any]],
    naive: dict[str, Any],
    streams: dict[tuple[str, str], dict[str, Any]],
) -> list[str]:
    """Records per second of each path beside the file path and the naive client of the same run, with what each
    costs per 1,000 records, and what each could reach at AppMetrica's rate limit."""
    events = {path: result for (path, function), result in streams.items() if function == EVENTS}
    if not events:
        return []
    file_size = 100_000 if (100_000, "appmetrica_events") in by else max(size for size, _ in by)
    rows = {**events, "file": by[(file_size, "appmetrica_events")], "naive": naive}
    lines = [
        "",
        "## Streaming: records of many messages share requests",
        "",
        "Single-event SQS messages are handed to `appmetrica_events` as its event source mapping builds batches (the "
        "template's `QueueBatchSize`); receiving and deleting them is Lambda's work and is not in the time. The HTTPS "
        "path is the time of the calls (each one a `SendMessage`) plus the time to deliver what they queued. The "
        f"file is the {file_size:,}-row events file above.",
        "",
        "| path | records | rows/s | / naive | requests per 1,000 | ledger calls per 1,000 | peak memory (MB) "
        f"| records/s at {RATE_LIMIT} requests/s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for path, title in STREAM_PATHS.items():
        row = rows.get(path)
        if row is None:
            continue
        per_request = row["rows"] / max(row["requests"], 1)
        lines.append(
            f"| {title} | {row['rows']:,} | {row['rows_per_s']:,.0f} | {row['rows_per_s'] / naive['rows_per_s']:,.1f}× "
            f"| {row['requests'] * 1000 / row['rows']:.1f} | {row['ledger_calls'] * 1000 / row['rows']:.1f} "
            f"| {row['peak_mb']:.0f} | {per_request * RATE_LIMIT:,.0f} |"
        )
    lines += ["", STREAM_NOTES, ""]
    for (path, function), result in streams.items():
        if not result["ledger_calls"]:
            continue
        operations = ", ".join(f"{name} {calls:,}" for name, calls in sorted(result["ledger_by_operation"].items()))
        share = result["ledger_seconds"] / result["seconds"]
        per_item = result["ledger_seconds"] * 1000 / max(result["ledger_items"], 1)
        lines.append(
            f"- {path} ({function}): ledger calls {operations}; {result['ledger_items']:,} items; a ledger call was "
            f"in flight {share:.0%} of the time, {per_item:.2f} ms an item (moto, calls overlapping)."
        )
    return lines


DOORS = {
    "file": "S3 file",
    "stream": "SQS, a record a message",
    "stream_packed": f"SQS, {PACKED} records a message",
    "webhooks": "HTTPS, a record a call",
    "webhooks_packed": f"HTTPS, {PACKED} records a call",
}
COST_NOTES = """\
Counted from botocore's events, during each invocation only: every AWS call the handlers make (S3 GETs, HEADs, PUTs
and LISTs, SQS SendMessage, DynamoDB's calls with their billed write and read units). Counted by formula, because no
code of Courier's makes them: the producer's requests (the file's one PUT; a SendMessage for each SQS message; an API
Gateway request for each HTTPS call), S3's notification to the queue (a SendMessage a file), and the event source
mapping's polling, as Lambda makes it: a ReceiveMessage for each 10 messages (the most SQS returns at once), billed by
the 64 KB chunks of what it returns, and a DeleteMessageBatch for each 10 after the invocation (the mapping's empty
receives on an idle queue are a cost per queue, not per record, and are not here). Lambda is each invocation's
duration (the handler's wall time here, on this machine against moto, rounded up to the millisecond) × the function's
MemorySize in template.yaml, plus its requests. Not priced: CloudWatch Logs (the functions' lines and the API's
access log), X-Ray traces (sampled), data transfer, S3 storage."""


def lambda_memory_mb(function: str) -> int:
    """The function's MemorySize in template.yaml (its own, else Globals'). The Lambda price is arm64's: a function
    on another architecture stops the bench rather than being priced wrong."""
    from infra.template import function_wirings, load_template

    template = load_template()
    own = template["Resources"][function_wirings(template)[function].logical_id]["Properties"]
    defaults = template["Globals"]["Function"]
    if own.get("Architectures", defaults.get("Architectures")) != ["arm64"]:
        raise RuntimeError(f"{function} is not arm64: the bench prices Lambda at arm64's rate")
    return int(own.get("MemorySize", defaults["MemorySize"]))


def usage(result: dict[str, Any], memory_mb: int) -> costs.Usage:
    """One measured path's counts as costs.Usage: the handlers' own calls with those made around them."""
    calls = Counter(result["aws_calls"]) + Counter(result["around_calls"])
    return costs.Usage(
        records=result["rows"],
        lambda_requests=result["lambda_invocations"],
        lambda_seconds=result["lambda_seconds"],
        memory_mb=memory_mb,
        write_units=result["write_units"],
        read_units=result["read_units"],
        sqs_requests=result["sqs_requests"],
        s3=costs.s3_requests({name[3:]: n for name, n in calls.items() if name.startswith("s3.")}),
        api_requests=calls["apigateway.POST"],
    )


def costed_paths(
    results: list[dict[str, Any]], streams: dict[tuple[str, str], dict[str, Any]]
) -> list[tuple[str, str, dict[str, Any]]]:
    """(door, function, result) for each door × function measured. A file is the function's largest measured up to
    1,000,000 rows: a file's fixed costs (its report, its ledger entries) are spread as a big file spreads them."""
    paths = []
    for function in COSTED:
        files = {r["size"]: r for r in results if r["path"] == function}
        if files:
            size = max((s for s in files if s <= 1_000_000), default=min(files))
            paths.append(("file", function, files[size]))
        paths += [(door, function, streams[(door, function)]) for door in DOORS if (door, function) in streams]
    return paths


def money(dollars: float) -> str:
    """Cents where there are any, else two significant digits (a file's cost per million records is fractions of a
    cent); 0 for nothing at all."""
    if not dollars:
        return "0"
    if dollars >= 0.01:
        return f"{dollars:,.2f}"
    return f"{dollars:.{1 - math.floor(math.log10(dollars))}f}"


def price_text(price: costs.Price, unit: str) -> str:
    """As AWS's pages write it: "$0.0000133334 per GB-second", "$0.20 per 1,000,000 requests"."""
    whole, cents = f"{price.dollars:.10f}".rstrip("0").split(".")
    return f"${whole}.{cents:0<2} per " + (unit if price.per == 1 else f"{price.per:,} {unit}s")


def cost_lines(
    results: list[dict[str, Any]], streams: dict[tuple[str, str], dict[str, Any]], command: str
) -> list[str]:
    """Each door × function's AWS cost per million records, by service, from the calls counted in this run; then
    the counts themselves per 1,000 records and the prices used."""
    lines = [
        f"Dollars per million records at AWS's published on-demand prices in {costs.REGION} as of "
        f"{costs.PRICES_CHECKED} (free tiers ignored), computed from the calls counted in `{command}` "
        f"({datetime.now(UTC):%Y-%m-%d}). The API Gateway column is the REST API the template deploys; the last "
        "total is the same calls behind an HTTP API. A file is one file of that many rows.",
        "",
        "| door | function | records | Lambda | DynamoDB | SQS | S3 | API Gateway (REST) | total "
        "| total with an HTTP API | largest |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    counted = [
        "",
        "Counted per 1,000 records:",
        "",
        "| door | function | invocations | GB-seconds | write units | read units | SQS requests "
        "| S3 GET / PUT / LIST | API requests |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for door, function, result in costed_paths(results, streams):
        used = usage(result, lambda_memory_mb(function))
        rest = costs.per_million(used)
        http = sum(costs.per_million(used, costs.API_GATEWAY_HTTP).values()) if used.api_requests else None
        lines.append(
            f"| {DOORS[door]} | {function} | {used.records:,} | "
            + " | ".join(money(rest[service]) for service in costs.SERVICES)
            + f" | {money(sum(rest.values()))} | {'' if http is None else money(http)} | {costs.dominant(rest)} |"
        )
        k = 1000 / used.records
        counted.append(
            f"| {DOORS[door]} | {function} | {used.lambda_requests * k:,.1f} | {used.gb_seconds * k:,.3f} "
            f"| {used.write_units * k:,.1f} | {used.read_units * k:,.1f} | {used.sqs_requests * k:,.1f} "
            f"| {used.s3.gets * k:,.2f} / {used.s3.puts * k:,.2f} / {used.s3.lists * k:,.2f} "
            f"| {used.api_requests * k:,.0f} |"
        )
    prices = [
        ("Lambda duration, arm64 (the first 7.5 billion GB-seconds a month)", "GB-second", costs.LAMBDA_GB_SECOND),
        ("Lambda requests", "request", costs.LAMBDA_REQUEST),
        ("DynamoDB on-demand writes", "write request unit", costs.DYNAMODB_WRITE_UNIT),
        ("DynamoDB on-demand reads", "read request unit", costs.DYNAMODB_READ_UNIT),
        ("SQS standard queue (each 64 KB chunk of a payload is a request)", "request", costs.SQS_REQUEST),
        ("S3 Standard PUT, COPY, POST", "request", costs.S3_PUT),
        ("S3 Standard LIST", "request", costs.S3_LIST),
        ("S3 Standard GET, HEAD and other requests", "request", costs.S3_GET),
        ("API Gateway REST API (the first 333 million a month)", "request", costs.API_GATEWAY_REST),
        ("API Gateway HTTP API (the first 300 million a month)", "request", costs.API_GATEWAY_HTTP),
    ]
    return [
        *lines,
        *counted,
        "",
        f"Prices ({costs.REGION}, as of {costs.PRICES_CHECKED}):",
        "",
        *(f"- {label}: {price_text(price, unit)} ({price.source})" for label, unit, price in prices),
        "",
        COST_NOTES,
    ]


NOTES = """## What bounds the numbers, and what was tried

- Two limits: the parsing emulator checks each row in Python (events about 7 µs a row, profiles about 17 µs: a JSON
  object and three hashes to check), so it bounds every path sent to it; the counting destination reads each body
  and counts its lines, so `transport` is the fastest any code can stream the file here, and the `…_counted` paths
  are Courier's own cost. On this 2-core machine Courier, the destination and moto share the cores; runs differ by
  about ±10 %, far more when other work runs.
- Kept for events: a fast path for rows whose columns repeat; timestamps inside the window compared as text; bracket
  counting before any JSON depth check; JSON text checked with `raw_decode` (a third of `json.loads`' time, the same
  answers); one request in flight while the next chunk is read; requests that grow from 10,000 rows to 50,000, so
  a small file overlaps reading and sending too (100,000-row files went from about 0.45 to 0.5–0.6 of the limit).
- Kept for profiles: e-mail domains checked and mapped once per domain (a bounded cache); the local part checked in
  one regex pass; Courier's own hashes not checked again and joined into the attributes JSON as text; one JSON
  encoder for every request. Profiles went from about 0.19 of the limit to 0.28–0.37.
- Memory: a chunk is one bytearray of CSV lines (no object per row); the body is that buffer with the header put in
  front, so a chunk in flight is one copy; chunks stop at 50,000 rows (half the API's cap); the template fixes
  glibc's mmap threshold (`GLIBC_TUNABLES`), without which big freed buffers stay in the heap (a 3,000,000-row file
  peaked at 111 MB instead of 97 MB with 100,000-row chunks). Peak memory is read from `VmHWM`: `ru_maxrss` also
  counts the parent's memory that fork copies before exec, which made earlier runs report up to 126 MB.
- Import: both timings are medians of 15 fresh processes, taking turns. A handler's import loads pydantic (the
  settings model, about 45–75 ms), Powertools' logger and metrics, and Courier; requests comes with the first
  request (a call refused before sending never loads it) and boto3 with the first AWS call, as do each door's own
  Powertools utilities (batch, event handler, streaming). A test checks that no handler's import loads requests or
  boto3. Before requests was deferred, runs gave 1.3–1.65× `import boto3`.
- `altcraft_profile_import` runs at its configured pace: `ALTCRAFT_MAX_RPS` (10 requests/s) × `ALTCRAFT_BATCH_SIZE`
  (1,000 profiles) is 10,000 rows/s at most.
- Kept for events (December 2026): a CSV row that nothing changes goes out as its line as written, behind the
  configured `application_id` (no dict to fields, no re-encoding), and a whole block of such rows at once: the file
  source parses a block (about 1 MB) with one call of the csv module (strict, so a quote left open is caught) and,
  when every line is one row as wide as the header, hands it over as a run of columns; the preparer checks each
  column at once (required cells, the two ids, times by their smallest and largest text, each distinct event_json
  parsed once, NaN, Infinity and 1e400 refused while parsing) and the batch takes the lines in one append, with one
  run of bits in the ledger's sent map. A block with any other row goes row by row, with the same reasons.
- Kept for profiles (December 2026): a run of a block's rows is prepared a column at a time, in slices that grow
  from 64 rows (a stop wastes little): each first-party column whose cells are each one valid value or blank is
  normalised and hashed in one pass, with no call a cell but the normaliser's, into the members as the CSV cell
  holds them; ids, blank cells and the application are checked per column. A cell the general path sends with a
  note ends the run there. About 1.3× the row-by-row plan; SHA-256 is now the largest single cost.
- Kept: `gc.freeze()` at the cold start, and the collector paused while a block's rows become columns. The
  thousands of short-lived lists a block makes set off the cyclic collector again and again, and each full pass
  walked every object the imports and clients made: with the collector off, events ran 1.4× faster here.
- Not done: fanning a large file out over parallel chunk messages; a file read through a mapping still goes row by
  row (its rows change), so the mapped/unmapped ratio fell as the unmapped path got faster.
- Small files are dominated by fixed costs per file: the ledger's DynamoDB calls, the report and the S3 requests.
"""


def plot(results: list[dict[str, Any]], sizes: list[int]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (speed, memory) = plt.subplots(1, 2, figsize=(11, 4.2))
    for path in (TRANSPORT, "limit", *TABLE_PATHS):
        points = sorted((r["size"], r["rows_per_s"], r["peak_mb"]) for r in results if r["path"] == path)
        if points:
            xs = [p[0] for p in points]
            speed.plot(xs, [p[1] for p in points], marker="o", label=path)
            memory.plot(xs, [p[2] for p in points], marker="o", label=path)
    for axis, title, unit in ((speed, "throughput", "rows/s"), (memory, "peak memory", "MB")):
        axis.set_xscale("log")
        axis.set_xlabel("rows in the file")
        axis.set_ylabel(unit)
        axis.set_title(title)
        axis.grid(True, alpha=0.3)
        axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(BENCH / "throughput.png", dpi=110)


if __name__ == "__main__":
    main()
