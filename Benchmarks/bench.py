#!/usr/bin/env python3
"""retentiond against the commands an administrator would type by hand, side by side in one run.

    make bench                                   # full size, release build, 5 runs each (README)
    make bench PREVIOUS=../old/.build/release    # the same, with an earlier build side by side
    make bench-smoke                             # seconds: CI keeps the harness working
    python3 Benchmarks/bench.py --help

Every scenario generates its own data under --work, runs each contender on a fresh copy, and
alternates the contenders run by run, so that a machine's drift hits both alike. The table gives
medians (and the spread), the ratio to the baseline, and the targets of issue 5. Each run's result
is checked (the right number of rows or files left), so a run that did nothing cannot look fast.

The deletes also run against the contender a careful administrator would write instead (issue
14): a batched loop of short transactions without crash tracking — on SQLite a Python loop of
`DELETE … WHERE id IN (SELECT id … LIMIT n)` with a commit each, on PostgreSQL a procedure that
commits per batch — its n the rows the single statement removes in retentiond's batch target.
retentiond's SQLite target is a ratio to that loop, with a longest lock wait no longer than its.

Peak RSS is what GNU time reports for the contender (its ru_maxrss). The longest lock wait is
what a second process, inserting a row every few milliseconds into the same SQLite database
during the purge, waited at worst for its write transaction.

PostgreSQL runs only with PG* variables set (scripts/with-postgres sets them).

--previous-bin DIR adds the retentiond and retentionctl of an earlier build (a release build of
the commit before a change) as one more contender in every scenario, "retentiond (previous)",
alternated run by run with the others; plan and idle run it too. The table then gains a column,
"vs previous": the current build's median over the previous build's, and a closing line names the
scenarios where the current build is slower beyond the spread (its fastest run slower than the
previous build's slowest): the regressions a change must not bring. The previous build's rows take
no target. Without the option the output is as before.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

DAY = 86400
TIME = "/usr/bin/time"     # GNU time, for the peak RSS
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

SIZES = {
    "full": dict(sqlite_rows=5_000_000, sqlite_due=1_000_000, anon_rows=2_000_000, anon_due=1_000_000,
                 files=200_000, files_due=100_000, pg_rows=2_000_000, pg_due=500_000,
                 plan_rules=200, plan_datasets=200, plan_rows=500, idle_seconds=60, runs=5),
    "smoke": dict(sqlite_rows=20_000, sqlite_due=4_000, anon_rows=10_000, anon_due=5_000,
                  files=2_000, files_due=1_000, pg_rows=20_000, pg_due=5_000,
                  plan_rules=10, plan_datasets=10, plan_rows=50, idle_seconds=2, runs=1),
}

# Targets (issues 5 and 14): the ratio to the baseline (SQLite delete: to the batched loop, whose
# longest lock wait retentiond's must not exceed), and absolute limits.
TARGETS = {"sqlite": 1.1, "anonymize": 1.5, "files": 1.2, "postgres": 2.0}
PLAN_TARGET_S = 1.0
RSS_TARGET_MIB = 64
# The batched loops' transactions are sized to take what retentiond's batches aim at (BatchSizer,
# JobRunner): 20 ms where a batch keeps the application's writers out (SQLite's one write lock),
# ten times that where it locks only its own rows (PostgreSQL).
LOOP_BATCH_TARGET_S = {"SQLite": 0.020, "PostgreSQL": 0.200}
LOCK_TARGET_MS = 50
IDLE_TARGET_PERCENT = 0.1

# PostgreSQL's batched loop: a procedure that commits after each batch (PostgreSQL 11 and later
# allow COMMIT in a procedure CALLed outside a transaction block), until a batch finds nothing.
POSTGRES_LOOP = """CREATE OR REPLACE PROCEDURE bench_purge(cutoff timestamptz, batch integer) LANGUAGE plpgsql AS $$
DECLARE
  deleted bigint;
BEGIN
  LOOP
    DELETE FROM bench_events WHERE id IN (SELECT id FROM bench_events WHERE ts < cutoff LIMIT batch);
    GET DIAGNOSTICS deleted = ROW_COUNT;
    COMMIT;
    EXIT WHEN deleted = 0;
  END LOOP;
END $$;
"""

# The contender names of the earlier build (--previous-bin) are the current ones with this suffix.
PREVIOUS = " (previous)"


def log(message):
    print(message, file=sys.stderr, flush=True)


# -- measuring one process ------------------------------------------------------------------------

class Result:
    def __init__(self, seconds, rss_kib, extra=None):
        self.seconds, self.rss_kib, self.extra = seconds, rss_kib, extra or {}


def measure(command, env=None, cwd=None):
    """Wall time and peak RSS of one command, which must succeed.

    The peak RSS comes from GNU time, which forks the command: a child spawned straight from this
    Python process would inherit Python's own high-water mark in ru_maxrss (Linux keeps it across
    exec), so every contender would show at least this script's size."""
    rss_file = os.path.join(tempfile.gettempdir(), f"bench-rss-{os.getpid()}")
    start = time.perf_counter()
    process = subprocess.run([TIME, "-f", "%M", "-o", rss_file, *command], env=env, cwd=cwd, capture_output=True)
    seconds = time.perf_counter() - start
    if process.returncode != 0:
        raise SystemExit(f"bench: {' '.join(command)} failed ({process.returncode}):\n"
                         f"{process.stderr.decode()[-3000:]}{process.stdout.decode()[-2000:]}")
    with open(rss_file) as file:
        rss_kib = int(file.read().split()[-1])
    os.remove(rss_file)
    return Result(seconds, rss_kib)


class LockProbe:
    """A second process writing to the database every few milliseconds; reports its worst wait."""

    def __init__(self, database, interval_ms=5):
        self.output = database + ".probe.json"
        self.process = subprocess.Popen([sys.executable, __file__, "probe", database, self.output, str(interval_ms)])
        # The probe says it is ready by creating its output file.
        for _ in range(500):
            if os.path.exists(self.output):
                return
            time.sleep(0.01)
        raise SystemExit("bench: the lock probe did not start")

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait()
        with open(self.output) as file:
            return json.load(file)


def probe_main(database, output, interval_ms):
    """The probe process: BEGIN IMMEDIATE + INSERT + COMMIT every interval, retrying at once on
    SQLITE_BUSY (no busy handler: its sleeps would blur the measure), timing each transaction."""
    connection = sqlite3.connect(database, timeout=0, isolation_level=None)
    connection.execute("PRAGMA synchronous = NORMAL")
    worst, writes, stop = 0.0, 0, False

    def finish(*_):
        nonlocal stop
        stop = True
    signal.signal(signal.SIGTERM, finish)
    with open(output, "w") as file:
        json.dump({"worst_ms": 0, "writes": 0}, file)
    while not stop:
        began = time.perf_counter()
        while True:
            try:
                connection.execute("BEGIN IMMEDIATE")
                connection.execute("INSERT INTO probe (at) VALUES (?)", (time.time(),))
                connection.execute("COMMIT")
                break
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) and "busy" not in str(error):
                    raise
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                time.sleep(0.0002)
                if stop:
                    break
        waited = time.perf_counter() - began
        worst = max(worst, waited)
        writes += 1
        time.sleep(interval_ms / 1000)
    with open(output, "w") as file:
        json.dump({"worst_ms": worst * 1000, "writes": writes}, file)


# The batched loop a careful administrator runs on SQLite instead of one long DELETE: short write
# transactions of `batch` rows each along the anchor's index, committed one by one, until a batch
# finds nothing. No record of what was deleted, so nothing to settle after a crash. A program of
# its own (`python3 -S -c`, importing sqlite3 alone), so that its start costs what a script's does.
# BEGIN IMMEDIATE: the write lock first, so that a writer committing meanwhile cannot turn the
# transaction's read snapshot stale (SQLITE_BUSY_SNAPSHOT, which no busy timeout waits out).
SQLITE_LOOP = """
import sqlite3, sys
database, cutoff, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
connection = sqlite3.connect(database, timeout=10, isolation_level=None)
while True:
    connection.execute("BEGIN IMMEDIATE")
    deleted = connection.execute("DELETE FROM events WHERE id IN (SELECT id FROM events WHERE ts < ? LIMIT ?)", (cutoff, batch)).rowcount
    connection.execute("COMMIT")
    if deleted == 0:
        break
connection.close()
"""


# -- the contenders -------------------------------------------------------------------------------

class Bench:
    def __init__(self, args):
        self.args = args
        self.size = dict(SIZES[args.size])
        if args.runs:
            self.size["runs"] = args.runs
        self.work = args.work
        self.bin = os.path.abspath(args.bin)
        self.previous = os.path.abspath(args.previous_bin) if args.previous_bin else None
        self.now = int(time.time())
        self.rows = []          # the table
        self.notes = []
        os.makedirs(self.work, exist_ok=True)
        self.key_file = os.path.join(self.work, "hmac-key")
        with open(self.key_file, "w") as file:
            file.write("benchmark-hmac-key-0123456789abcdef\n")

    def path(self, *parts):
        return os.path.join(self.work, *parts)

    def write(self, name, text):
        with open(self.path(name), "w") as file:
            file.write(text)
        return self.path(name)

    def retentiond(self, rules, stores, extra=(), bin=None):
        # The previous build keeps a state database of its own: the two schemas may differ.
        state = self.path("state.sqlite" if bin is None else "state-previous.sqlite")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(state + suffix):
                os.remove(state + suffix)
        return [os.path.join(bin or self.bin, "retentiond"), "--rules", rules, "--stores", stores, "--state", state, "--init",
                "--hmac-key", self.key_file, "--once", "--log-target", "console", "--log-level", "warning", *extra]

    def with_previous(self, contenders, runner):
        """The contenders, plus with --previous-bin the previous build's retentiond, whose run
        `runner(bin)` returns for that build's directory, built as the current build's is."""
        if not self.previous:
            return contenders
        return [*contenders, ("retentiond" + PREVIOUS, runner(self.previous))]

    def alternate(self, contenders, prepare, check):
        """Runs each contender `runs` times on fresh data, alternating; returns name → [Result]."""
        results = {name: [] for name, _ in contenders}
        for run in range(self.size["runs"]):
            order = contenders if run % 2 == 0 else list(reversed(contenders))
            for name, run_one in order:
                prepare()
                # The generated data written back first: its writeback must not land in a measurement.
                os.sync()
                result = run_one()
                check(name)
                results[name].append(result)
                log(f"  run {run + 1} {name}: {result.seconds:.3f} s, {result.rss_kib / 1024:.1f} MiB"
                    + "".join(f", {k} {v:.1f}" for k, v in result.extra.items()))
        return results

    def add(self, scenario, results, baseline, target=None, records=None, lock=False, against=None):
        """One row per contender. retentiond's `target` is a ratio to the baseline's median, or
        with `against` to that contender's, whose median longest lock wait it must not exceed."""
        base = statistics.median(r.seconds for r in results[baseline])
        first = len(self.rows)
        for name, runs in results.items():
            seconds = [r.seconds for r in runs]
            median = statistics.median(seconds)
            row = {"scenario": scenario, "contender": name, "median_s": median, "min_s": min(seconds), "max_s": max(seconds),
                   "ratio": median / base if base > 0 else None, "baseline": name == baseline,
                   "rss_mib": max(r.rss_kib for r in runs) / 1024, "runs": len(runs)}
            if records:
                row["records_per_s"] = records / median
            if lock:
                row["lock_ms"] = statistics.median(r.extra["lock_ms"] for r in runs)
                row["lock_max_ms"] = max(r.extra["lock_ms"] for r in runs)
            if name == "retentiond" and target and against:
                self.meet_against(row, results, against, target, lock)
            elif name == "retentiond" and target:
                row["target"] = f"≤ {target}×"
                row["met"] = row["ratio"] <= target and row["rss_mib"] <= RSS_TARGET_MIB and (not lock or row["lock_max_ms"] <= LOCK_TARGET_MS)
            self.rows.append(row)
        self.pair_with_previous(self.rows[first:])

    @staticmethod
    def meet_against(row, results, against, target, lock):
        """retentiond's target against another contender than the baseline: at most `target`
        times its median, and (`lock`) a median longest lock wait no longer than its."""
        other = results[against]
        ratio = row["median_s"] / statistics.median(r.seconds for r in other)
        label = against.split(" (")[0]
        row["target"] = f"≤ {target}× {label} ({ratio:.2f}×)"
        row["met"] = ratio <= target and row["rss_mib"] <= RSS_TARGET_MIB
        if lock:
            other_lock = statistics.median(r.extra["lock_ms"] for r in other)
            row["target"] += f", lock ≤ its {other_lock:.0f} ms"
            row["met"] = row["met"] and row["lock_ms"] <= other_lock

    @staticmethod
    def pair_with_previous(rows, key="median_s"):
        """Sets, on each current build's row of one scenario that has a previous build's row, the
        ratio of the two (`key`, the median by default) and where the current build's runs lie:
        "slower" or "faster" beyond the spread (the two ranges apart), or "within" it."""
        by_contender = {row["contender"]: row for row in rows}
        for row in rows:
            previous = by_contender.get(row["contender"] + PREVIOUS)
            if previous is None:
                continue
            previous["previous"] = True
            row["vs_previous"] = row[key] / previous[key] if previous[key] > 0 else None
            if "min_s" in row and row["runs"] > 1 and previous["runs"] > 1:
                row["against_previous"] = ("slower" if row["min_s"] > previous["max_s"] else
                                           "faster" if row["max_s"] < previous["min_s"] else "within")

    # -- SQLite delete --

    def sqlite_table(self, path, rows, due):
        """`events`: id, an indexed Unix-seconds anchor `ts` rising with id (an append-only log),
        and some personal data; the first `due` rows are 40–100 days old, the rest 1–20 days."""
        if os.path.exists(path):
            os.remove(path)
        db = sqlite3.connect(path)
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = OFF")
        db.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, ip TEXT, email TEXT, note TEXT, anonymized_at INTEGER)")
        db.execute("CREATE TABLE probe (id INTEGER PRIMARY KEY, at REAL)")
        old_start, old_span = self.now - 100 * DAY, 60 * DAY
        new_start, new_span = self.now - 20 * DAY, 19 * DAY

        def generate():
            for i in range(rows):
                if i < due:
                    ts = old_start + old_span * i // max(due, 1)
                else:
                    ts = new_start + new_span * (i - due) // max(rows - due, 1)
                yield (i + 1, ts, f"192.0.{i % 256}.{(i * 7) % 256}", f"user{i}@example.com", f"visit {i} from the web shop")
        db.executemany("INSERT INTO events (id, ts, ip, email, note) VALUES (?, ?, ?, ?, ?)", generate())
        db.execute("CREATE INDEX events_ts ON events (ts)")
        db.commit()
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()

    def rules(self, action):
        if action == "delete":
            body = "    retain: 30d\n    from: event_at\n    then: delete\n"
        else:
            body = "    from: event_at\n    stages:\n      - {after: 30d, then: anonymize}\n"
        return self.write(f"rules-{action}.yaml", "version: 1\nrules:\n  bench-events:\n    title: benchmark events\n"
                          + body + "    basis: benchmark\n")

    def sqlite_stores(self, database, anonymize=False):
        extra = ("        anonymize: { ip: truncate-ip, email: hmac-sha256 }\n        anonymized-at: anonymized_at\n"
                 if anonymize else "")
        return self.write("stores-sqlite.yaml", f"""version: 1
stores:
  bench:
    kind: sqlite
    path: {database}
    datasets:
      events:
        table: events
        key: id
        rules: [bench-events]
        fields: {{ event_at: ts }}
        max-delete-share: 100%
{extra}""")

    def remaining(self, database, where="1"):
        db = sqlite3.connect(database)
        count = db.execute(f"SELECT count(*) FROM events WHERE {where}").fetchone()[0]
        db.close()
        return count

    def bench_sqlite(self):
        rows, due = self.size["sqlite_rows"], self.size["sqlite_due"]
        log(f"SQLite: {rows} rows, {due} due")
        template, database = self.path("sqlite-template.db"), self.path("sqlite.db")
        self.sqlite_table(template, rows, due)
        rules, stores = self.rules("delete"), self.sqlite_stores(database)
        cutoff = self.now - 30 * DAY

        def prepare():
            for suffix in ("-wal", "-shm"):
                if os.path.exists(database + suffix):
                    os.remove(database + suffix)
            shutil.copyfile(template, database)

        def with_probe(command):
            def run():
                probe = LockProbe(database)
                result = measure(command)
                result.extra["lock_ms"] = probe.stop()["worst_ms"]
                return result
            return run

        def check(name):
            left = self.remaining(database)
            if left != rows - due:
                raise SystemExit(f"bench: after {name}, {left} rows are left, not {rows - due}")
        raw = ["sqlite3", "-cmd", ".timeout 10000", database, f"DELETE FROM events WHERE ts < {cutoff}"]
        batch = self.loop_batch("SQLite", lambda: measure(raw), prepare, check, due)
        loop_name = f"batched loop ({batch:,} per commit)"
        loop = [sys.executable, "-S", "-c", SQLITE_LOOP, database, str(cutoff), str(batch)]
        contenders = [("sqlite3 DELETE", with_probe(raw)), (loop_name, with_probe(loop)),
                      ("retentiond", with_probe(self.retentiond(rules, stores)))]
        results = self.alternate(self.with_previous(contenders, lambda bin: with_probe(self.retentiond(rules, stores, bin=bin))),
                                 prepare, check)
        self.add("SQLite delete", results, "sqlite3 DELETE", TARGETS["sqlite"], records=due, lock=True, against=loop_name)

    def loop_batch(self, store, run_raw, prepare, check, due):
        """The batch size of the batched loop, reasoned as retentiond sizes its batches: the rows
        the single statement removes in retentiond's batch target for the store
        (`LOOP_BATCH_TARGET_S`), from one untimed run of it here (an administrator's trial run)."""
        prepare()
        os.sync()
        seconds = run_raw().seconds
        check("the trial run")
        batch = max(100, int(round(due / max(seconds, 1e-3) * LOOP_BATCH_TARGET_S[store], -2)))
        log(f"  {store} batched loop: {batch} rows per commit (the single statement took {seconds:.3f} s for {due} rows)")
        return batch

    # -- anonymization --

    def bench_anonymize(self):
        rows, due = self.size["anon_rows"], self.size["anon_due"]
        log(f"Anonymization: {rows} rows, {due} due (truncate-ip + hmac-sha256)")
        extension = self.path("anonymize-extension.so")
        subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", extension, os.path.join(HERE, "anonymize-extension.c"), "-lcrypto"], check=True)
        template, database = self.path("anon-template.db"), self.path("anon.db")
        self.sqlite_table(template, rows, due)
        rules, stores = self.rules("anonymize"), self.sqlite_stores(database, anonymize=True)
        cutoff = self.now - 30 * DAY
        with open(self.key_file) as file:
            key = file.read().rstrip("\r\n")

        def prepare():
            for suffix in ("-wal", "-shm"):
                if os.path.exists(database + suffix):
                    os.remove(database + suffix)
            shutil.copyfile(template, database)

        samples = {}

        def check(name):
            done = self.remaining(database, "anonymized_at IS NOT NULL")
            if done != due:
                raise SystemExit(f"bench: after {name}, {done} rows are anonymized, not {due}")
            # Both contenders must write the same values: the C functions are the strategies' spec.
            db = sqlite3.connect(database)
            sample = db.execute(f"SELECT id, ip, email FROM events WHERE id IN (1, 7, {due // 2}, {due}, {due + 1}) ORDER BY id").fetchall()
            db.close()
            if sample[0][1] != "192.0.0.0" or len(sample[0][2]) != 64:
                raise SystemExit(f"bench: after {name}, row 1 reads {sample[0]}")
            samples.setdefault("first", (name, sample))
            if sample != samples["first"][1]:
                raise SystemExit(f"bench: {name} wrote {sample}, {samples['first'][0]} wrote {samples['first'][1]}")
        update = (f"UPDATE events SET ip = truncate_ip(ip), email = hmac_sha256(email, '{key}'), anonymized_at = {self.now} "
                  f"WHERE ts < {cutoff} AND anonymized_at IS NULL")
        raw = ["sqlite3", "-cmd", f".load {extension}", database, update]
        contenders = [("sqlite3 UPDATE", lambda: measure(raw)), ("retentiond", lambda: measure(self.retentiond(rules, stores)))]
        results = self.alternate(self.with_previous(contenders, lambda bin: lambda: measure(self.retentiond(rules, stores, bin=bin))),
                                 prepare, check)
        self.add("Anonymization", results, "sqlite3 UPDATE", TARGETS["anonymize"], records=due)

    # -- files --

    def bench_files(self):
        total, due = self.size["files"], self.size["files_due"]
        log(f"Files: {total} files, {due} due")
        root = self.path("files")
        per_directory = 1000
        rules = self.write("rules-files.yaml", "version: 1\nrules:\n  bench-logs:\n    title: benchmark logs\n"
                           "    retain: 30d\n    from: log_written_at\n    then: delete\n    basis: benchmark\n")
        stores = self.write("stores-files.yaml", f"""version: 1
stores:
  logs:
    kind: files
    path: {root}
    match: "*.log"
    rules: [bench-logs]
    fields: {{ log_written_at: mtime }}
    max-delete-share: 100%
""")
        tmpfiles = self.write("tmpfiles.conf", f"e {root} - - - m:30d\n")

        def prepare():
            if os.path.exists(root):
                shutil.rmtree(root)
            # Old and new files interleaved in every directory, as a log directory holds them.
            for index in range(total):
                directory = os.path.join(root, f"device-{index // per_directory:04d}")
                if index % per_directory == 0:
                    os.makedirs(directory)
                name = os.path.join(directory, f"{index:07d}.log")
                descriptor = os.open(name, os.O_CREAT | os.O_WRONLY, 0o644)
                os.write(descriptor, b"device log line\n")
                os.close(descriptor)
                age = (60 if index % (total // max(due, 1)) == 0 else 1) * DAY
                os.utime(name, (self.now - age, self.now - age))

        def check(name):
            left = sum(len(files) for _, _, files in os.walk(root))
            if left != total - due:
                raise SystemExit(f"bench: after {name}, {left} files are left, not {total - due}")
        find = ["find", root, "-type", "f", "-mtime", "+30", "-delete"]
        contenders = [("find -delete", lambda: measure(find)), ("retentiond", lambda: measure(self.retentiond(rules, stores)))]
        if shutil.which("systemd-tmpfiles"):
            contenders.insert(1, ("systemd-tmpfiles --clean", lambda: measure(["systemd-tmpfiles", "--clean", tmpfiles])))
        contenders = self.with_previous(contenders, lambda bin: lambda: measure(self.retentiond(rules, stores, bin=bin)))
        results = self.alternate(contenders, prepare, check)
        self.add("Files", results, "find -delete", TARGETS["files"], records=due)

    # -- PostgreSQL --

    def psql(self, sql):
        """Runs the statements one by one (VACUUM refuses a transaction block), notices silenced."""
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", "-"], input="SET client_min_messages = warning;\n" + sql,
                       text=True, check=True, stdout=subprocess.DEVNULL)

    def bench_postgres(self):
        if not os.environ.get("PGHOST") or not os.environ.get("RETENTIOND_TEST_POSTGRES_DSN"):
            self.notes.append("PostgreSQL skipped: no server (run under scripts/with-postgres)")
            log("PostgreSQL: skipped, no PG* variables (run under scripts/with-postgres)")
            return
        rows, due = self.size["pg_rows"], self.size["pg_due"]
        log(f"PostgreSQL: {rows} rows, {due} due")
        self.psql(f"""DROP TABLE IF EXISTS bench_template;
            CREATE TABLE bench_template AS
              SELECT g AS id,
                     CASE WHEN g <= {due} THEN to_timestamp({self.now - 100 * DAY} + {60 * DAY}::bigint * g / {due})
                          ELSE to_timestamp({self.now - 20 * DAY} + {19 * DAY}::bigint * (g - {due}) / {max(rows - due, 1)}) END AS ts,
                     '192.0.' || (g % 256) || '.' || (g * 7 % 256) AS ip, 'user' || g || '@example.com' AS email,
                     'visit ' || g || ' from the web shop' AS note
              FROM generate_series(1, {rows}) AS g;""")
        dsn = os.environ["RETENTIOND_TEST_POSTGRES_DSN"]
        rules = self.rules("delete")
        stores = self.write("stores-postgres.yaml", f"""version: 1
stores:
  bench-pg:
    kind: postgres
    dsn: {dsn}
    datasets:
      events:
        table: public.bench_events
        key: id
        rules: [bench-events]
        fields: {{ event_at: ts }}
        max-delete-share: 100%
""")

        def prepare():
            self.psql("""DROP TABLE IF EXISTS bench_events;
                CREATE TABLE bench_events (id bigint PRIMARY KEY, ts timestamptz NOT NULL, ip text, email text, note text);
                INSERT INTO bench_events SELECT * FROM bench_template;
                CREATE INDEX bench_events_ts ON bench_events (ts);
                VACUUM ANALYZE bench_events;""")

        def check(name):
            left = int(subprocess.run(["psql", "-X", "-At", "-c", "SELECT count(*) FROM bench_events"], check=True,
                                      capture_output=True, text=True).stdout)
            if left != rows - due:
                raise SystemExit(f"bench: after {name}, {left} rows are left, not {rows - due}")
        raw = ["psql", "-X", "-q", "-c", f"DELETE FROM bench_events WHERE ts < to_timestamp({self.now - 30 * DAY})"]
        password = ["--postgres-password-file", os.environ["RETENTIOND_TEST_POSTGRES_PASSWORD_FILE"]]
        batch = self.loop_batch("PostgreSQL", lambda: measure(raw), prepare, check, due)
        self.psql(POSTGRES_LOOP)
        loop = ["psql", "-X", "-q", "-c", f"CALL bench_purge(to_timestamp({self.now - 30 * DAY}), {batch})"]
        contenders = [("psql DELETE", lambda: measure(raw)), (f"procedure loop ({batch:,} per commit)", lambda: measure(loop)),
                      ("retentiond", lambda: measure(self.retentiond(rules, stores, password)))]
        results = self.alternate(self.with_previous(contenders, lambda bin: lambda: measure(self.retentiond(rules, stores, password, bin=bin))),
                                 prepare, check)
        self.add("PostgreSQL delete", results, "psql DELETE", TARGETS["postgres"], records=due)
        self.psql("DROP TABLE IF EXISTS bench_events; DROP TABLE IF EXISTS bench_template; DROP PROCEDURE IF EXISTS bench_purge;")

    # -- partition drop (issue 14) --

    # Rows in all, and of them the due ones: three whole months, each its own partition; the rest
    # fall in the last 30 days. Kept apart from SIZES so that the scenario stays one piece.
    PARTITION_SIZES = {"full": dict(rows=10_000_000, due=2_500_000), "smoke": dict(rows=12_000, due=3_000)}
    PARTITION_TARGET = 20.0

    def bench_partitions(self):
        """A table partitioned by month on the anchor, three months due: retentiond (which takes
        the due partitions whole) against the single DELETE of the same rows. Between runs only
        the three due partitions are made again; the other rows stay. The table is built as a real
        one of this size is, and both contenders run against it: a primary key, which on a
        partitioned table must include the partition column (`PRIMARY KEY (id, ts)`), and an index
        on the anchor; each partition gets both."""
        if not os.environ.get("PGHOST") or not os.environ.get("RETENTIOND_TEST_POSTGRES_DSN"):
            self.notes.append("Partition drop skipped: no server (run under scripts/with-postgres)")
            return
        size = self.PARTITION_SIZES[self.args.size]
        rows, due = size["rows"], size["due"]
        log(f"Partition drop: {rows} rows in monthly partitions, {due} due in 3 months")
        # The cutoff (30 days ago) lies in month M; the due rows fill the three months before M,
        # the others the last 29 days, so that no partition is cut through.
        months = [f"date_trunc('month', to_timestamp({self.now - 30 * DAY})) - interval '{3 - m} months'" for m in range(5)]
        self.psql(f"""DROP TABLE IF EXISTS bench_parts CASCADE; DROP TABLE IF EXISTS bench_parts_due;
            CREATE TABLE bench_parts (id bigint, ts timestamptz NOT NULL, note text, PRIMARY KEY (id, ts)) PARTITION BY RANGE (ts);
            CREATE TABLE bench_parts_later PARTITION OF bench_parts FOR VALUES FROM ({months[3]}) TO (MAXVALUE);
            CREATE TABLE bench_parts_due AS SELECT g AS id,
                   {months[0]} + (g - 1) * (({months[3]}) - ({months[0]})) / {due} AS ts, 'event ' || g AS note
              FROM generate_series(1, {due}) AS g;
            INSERT INTO bench_parts SELECT g, to_timestamp({self.now - 29 * DAY} + {29 * DAY}::bigint * (g - {due}) / {max(rows - due, 1)}), 'event ' || g
              FROM generate_series({due + 1}, {rows}) AS g;
            CREATE INDEX bench_parts_ts ON bench_parts (ts);""")

        def prepare():
            sql = "".join(f"DROP TABLE IF EXISTS bench_parts_m{m}; CREATE TABLE bench_parts_m{m} PARTITION OF bench_parts "
                          f"FOR VALUES FROM ({months[m]}) TO ({months[m + 1]});" for m in range(3))
            self.psql(sql + "INSERT INTO bench_parts SELECT * FROM bench_parts_due; VACUUM ANALYZE bench_parts;")

        def check(name):
            left = int(subprocess.run(["psql", "-X", "-At", "-c", "SELECT count(*) FROM bench_parts"], check=True,
                                      capture_output=True, text=True).stdout)
            if left != rows - due:
                raise SystemExit(f"bench: after {name}, {left} rows are left, not {rows - due}")
            # retentiond must have taken the partitions whole, not deleted their rows.
            kept = int(subprocess.run(["psql", "-X", "-At", "-c", "SELECT count(*) FROM pg_class WHERE relname LIKE 'bench_parts_m_'"],
                                      check=True, capture_output=True, text=True).stdout)
            if name.startswith("retentiond") and kept:
                raise SystemExit(f"bench: after {name}, {kept} of the 3 due partitions are still there")
        stores = self.write("stores-partitions.yaml", f"""version: 1
stores:
  bench-pg:
    kind: postgres
    dsn: {os.environ["RETENTIOND_TEST_POSTGRES_DSN"]}
    datasets:
      events:
        table: public.bench_parts
        key: id
        rules: [bench-events]
        fields: {{ event_at: ts }}
        max-delete-share: 100%
""")
        rules = self.rules("delete")
        password = ["--postgres-password-file", os.environ["RETENTIOND_TEST_POSTGRES_PASSWORD_FILE"]]
        raw = ["psql", "-X", "-q", "-c", f"DELETE FROM bench_parts WHERE ts < to_timestamp({self.now - 30 * DAY})"]
        # For the record, not the target: the DELETE leaves 2.5 M dead rows that only VACUUM gives
        # back, which a dropped partition never has.
        vacuumed = raw + ["-c", "VACUUM bench_parts"]
        contenders = [("psql DELETE", lambda: measure(raw)), ("psql DELETE, then VACUUM", lambda: measure(vacuumed)),
                      ("retentiond", lambda: measure(self.retentiond(rules, stores, password)))]
        contenders = self.with_previous(contenders, lambda bin: lambda: measure(self.retentiond(rules, stores, password, bin=bin)))
        results = self.alternate(contenders, prepare, check)
        self.add("PostgreSQL partition drop", results, "psql DELETE", records=due)
        # A floor, not a ceiling: the target is a speed-up over the DELETE.
        row = next(row for row in self.rows[::-1] if row["contender"] == "retentiond")
        speedup = 1 / row["ratio"] if row.get("ratio") else 0
        row["target"] = f"≥ {self.PARTITION_TARGET:.0f}× faster"
        row["met"] = speedup >= self.PARTITION_TARGET and row["rss_mib"] <= RSS_TARGET_MIB
        self.notes.append(f"Partition drop: retentiond {speedup:.1f}× faster than the single DELETE of the same {due:,} rows.")
        self.psql("DROP TABLE IF EXISTS bench_parts CASCADE; DROP TABLE IF EXISTS bench_parts_due;")

    # -- planning --

    def bench_plan(self):
        rule_count, datasets, per_table = self.size["plan_rules"], self.size["plan_datasets"], self.size["plan_rows"]
        log(f"Planning: {rule_count} rules × {datasets} datasets, {per_table} rows each")
        database = self.path("plan.db")
        if os.path.exists(database):
            os.remove(database)
        db = sqlite3.connect(database)
        db.execute("PRAGMA journal_mode = WAL")
        for table in range(datasets):
            db.execute(f"CREATE TABLE t{table:03d} (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL)")
            db.executemany(f"INSERT INTO t{table:03d} (ts) VALUES (?)",
                           ((self.now - (i * 3 * 365 * DAY) // per_table,) for i in range(per_table)))
            db.execute(f"CREATE INDEX t{table:03d}_ts ON t{table:03d} (ts)")
        db.commit()
        db.close()
        rules = "version: 1\nrules:\n" + "".join(
            f"  bench-rule-{rule:03d}:\n    title: rule {rule}\n    retain: {rule + 1}0d\n    from: event_at\n    then: delete\n"
            f"    basis: benchmark\n" for rule in range(rule_count))
        names = ", ".join(f"bench-rule-{rule:03d}" for rule in range(rule_count))
        stores = "version: 1\nstores:\n  plan:\n    kind: sqlite\n    path: " + database + "\n    datasets:\n" + "".join(
            f"      d{table:03d}:\n        table: t{table:03d}\n        key: id\n        rules: [{names}]\n"
            f"        fields: {{ event_at: ts }}\n" for table in range(datasets))
        rules_file, stores_file = self.write("rules-plan.yaml", rules), self.write("stores-plan.yaml", stores)
        # Timed: the command as an operator types it (a table of what is due). Then, untimed, every
        # stage as JSON, to check that all of them were planned. Each build keeps its own state.
        builds = [("plan", self.bin, "plan-state.sqlite")]
        if self.previous:
            builds.append(("plan" + PREVIOUS, self.previous, "plan-state-previous.sqlite"))
        commands = {name: [os.path.join(bin, "retentionctl"), "plan", "--rules", rules_file, "--stores", stores_file,
                           "--state", self.path(state), "--init"] for name, bin, state in builds}
        runs = {name: [] for name in commands}
        for run in range(self.size["runs"]):
            for name in (list(commands) if run % 2 == 0 else list(reversed(commands))):
                result = measure(commands[name])
                runs[name].append(result)
                log(f"  run {run + 1} {name}: {result.seconds:.3f} s, {result.rss_kib / 1024:.1f} MiB")
        rows = []
        for name, command in commands.items():
            entries = json.loads(subprocess.run(command + ["--all", "--format", "json"], check=True, capture_output=True,
                                                text=True).stdout)["entries"]
            if len(entries) != rule_count * datasets:
                raise SystemExit(f"bench: {name} listed {len(entries)} entries, not {rule_count * datasets}")
            seconds, rss_mib = [r.seconds for r in runs[name]], max(r.rss_kib for r in runs[name]) / 1024
            row = {"scenario": f"Planning ({rule_count} rules × {datasets} datasets)", "contender": "retentionctl " + name,
                   "median_s": statistics.median(seconds), "min_s": min(seconds), "max_s": max(seconds),
                   "ratio": None, "baseline": False, "rss_mib": rss_mib, "runs": len(seconds)}
            if name == "plan":
                row.update(target=f"≤ {PLAN_TARGET_S} s", met=row["median_s"] <= PLAN_TARGET_S and rss_mib <= RSS_TARGET_MIB)
            rows.append(row)
        self.pair_with_previous(rows)
        self.rows.extend(rows)

    # -- idle --

    def bench_idle(self):
        seconds = self.size["idle_seconds"]
        log(f"Idle: the daemon over {seconds} s with nothing due")
        database = self.path("idle.db")
        self.sqlite_table(database, 1000, 0)
        rules, stores = self.rules("delete"), self.sqlite_stores(database)
        builds = [("retentiond", None)] + ([("retentiond" + PREVIOUS, self.previous)] if self.previous else [])
        rows = []
        for name, bin in builds:
            command = [c for c in self.retentiond(rules, stores, bin=bin) if c != "--once"]
            cpu_ns, rss, hwm = self.idle_once(command, seconds)
            percent = cpu_ns / (seconds * 1e9) * 100
            log(f"  idle{name[len('retentiond'):]}: {cpu_ns / 1e6:.1f} ms of CPU in {seconds} s ({percent:.4f} %), "
                f"RSS {rss / 1024:.1f} MiB, peak {hwm / 1024:.1f} MiB")
            row = {"scenario": f"Idle daemon ({seconds} s)", "contender": name, "cpu_ms": cpu_ns / 1e6,
                   "cpu_percent": percent, "rss_mib": hwm / 1024, "rss_now_mib": rss / 1024, "runs": 1}
            if bin is None:
                row.update(target=f"< {IDLE_TARGET_PERCENT} % CPU", met=percent < IDLE_TARGET_PERCENT and hwm / 1024 <= RSS_TARGET_MIB)
            rows.append(row)
        self.pair_with_previous(rows, key="cpu_ms")
        self.rows.extend(rows)

    def idle_once(self, command, seconds):
        """The daemon's CPU time (ns) over `seconds` from READY=1 on, its RSS and peak RSS (KiB)."""
        notify = self.path("notify.socket")
        if os.path.exists(notify):
            os.remove(notify)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        listener.bind(notify)
        listener.settimeout(60)
        env = dict(os.environ, NOTIFY_SOCKET=notify)
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            while b"READY=1" not in listener.recv(4096):
                pass
            time.sleep(0.5)     # the first pass's tail (closing, the next wake computed)
            before = self.cpu_ns(process.pid)
            time.sleep(seconds)
            after = self.cpu_ns(process.pid)
            rss, hwm = self.status_kib(process.pid, "VmRSS"), self.status_kib(process.pid, "VmHWM")
        finally:
            process.terminate()
            process.wait(timeout=30)
            listener.close()
        return after - before, rss, hwm

    @staticmethod
    def cpu_ns(pid):
        """User and system time of the whole process, threads that have ended included (from
        /proc/PID/stat, in clock ticks: 10 ms, fine enough against 0.1 % of a minute)."""
        with open(f"/proc/{pid}/stat") as file:
            fields = file.read().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])      # utime, stime (fields 14 and 15)
        return ticks * 1_000_000_000 // os.sysconf("SC_CLK_TCK")

    @staticmethod
    def status_kib(pid, field):
        with open(f"/proc/{pid}/status") as file:
            for line in file:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        return 0

    # -- the table --

    def table(self):
        # With --previous-bin, one more column after the ratio: the current build over the previous one.
        lines = ["| scenario | contender | median | spread | ratio | " + ("vs previous | " if self.previous else "")
                 + "records/s | longest lock wait | peak RSS | target | met |",
                 "|---|---|--:|--:|--:|" + ("--:|" if self.previous else "") + "--:|--:|--:|---|---|"]
        for row in self.rows:
            met = "" if "met" not in row else ("yes" if row["met"] else "**no**")
            versus = f"{self.versus_previous(row)} | " if self.previous else ""
            if "cpu_percent" in row:
                lines.append(f"| {row['scenario']} | {row['contender']} | {row['cpu_ms']:.1f} ms CPU | | {row['cpu_percent']:.4f} % | {versus}| | "
                             f"{row['rss_mib']:.1f} MiB | {row.get('target', '')} | {met} |")
                continue
            ratio = "1.00 (baseline)" if row.get("baseline") else (f"{row['ratio']:.2f}" if row.get("ratio") else "")
            rate = f"{row['records_per_s']:,.0f}" if "records_per_s" in row else ""
            lock = f"{row['lock_ms']:.0f} ms (max {row['lock_max_ms']:.0f})" if "lock_ms" in row else ""
            lines.append(f"| {row['scenario']} | {row['contender']} | {row['median_s']:.3f} s | {row['min_s']:.2f}–{row['max_s']:.2f} | "
                         f"{ratio} | {versus}{rate} | {lock} | {row['rss_mib']:.1f} MiB | {row.get('target', '')} | {met} |")
        return "\n".join(lines)

    @staticmethod
    def versus_previous(row):
        """The "vs previous" cell: the ratio, marked where the runs lie beyond the spread."""
        if row.get("previous"):
            return "1.00 (previous)"
        if row.get("vs_previous") is None:
            return ""
        mark = {"slower": " **slower**", "faster": " faster"}.get(row.get("against_previous"), "")
        return f"{row['vs_previous']:.2f}{mark}"

    def previous_verdict(self):
        """The closing line of a comparison with the previous build: the scenarios slower, or
        faster, beyond the spread."""
        def named(verdict):
            return ", ".join(f"{row['scenario']} ({row['vs_previous']:.2f}×)" for row in self.rows
                             if row.get("against_previous") == verdict)
        slower, faster = named("slower"), named("faster")
        return ("Against the previous build: " + (f"slower beyond the spread in {slower}" if slower else "no scenario slower beyond the spread")
                + (f"; faster beyond it in {faster}." if faster else "."))

    @staticmethod
    def commit(bin):
        """The commit a build directory's checkout is at, if it lies in a git work tree ("-dirty":
        with changes not committed, which the build may or may not hold)."""
        process = subprocess.run(["git", "-C", bin, "describe", "--always", "--dirty"], capture_output=True, text=True)
        return process.stdout.strip() if process.returncode == 0 else "commit unknown"

    def machine(self):
        cpu = "unknown CPU"
        with open("/proc/cpuinfo") as file:
            for line in file:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as file:
            memory = int(file.readline().split()[1]) // (1024 * 1024)
        sqlite = subprocess.run(["sqlite3", "--version"], capture_output=True, text=True).stdout.split()[0]
        return (f"{os.cpu_count()} cores ({cpu}), {memory} GiB, Linux {os.uname().release}, "
                f"SQLite {sqlite}, {self.args.size} size, {self.size['runs']} runs each, build {os.path.basename(os.path.dirname(self.bin + '/'))}"
                + (f" ({self.bin} at {self.commit(self.bin)}), previous build {self.previous} at {self.commit(self.previous)}"
                   if self.previous else ""))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "probe":
        probe_main(sys.argv[2], sys.argv[3], float(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=SIZES, default="full")
    parser.add_argument("--runs", type=int, help="runs per contender (default 5 at full size, 1 at smoke)")
    parser.add_argument("--bin", default=os.path.join(ROOT, ".build", "release"), help="where retentiond and retentionctl are")
    parser.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "retentiond-bench"), help="scratch directory (deleted at the end)")
    parser.add_argument("--previous-bin", metavar="DIR",
                        help="an earlier build's retentiond and retentionctl, run side by side with --bin's as one more contender")
    parser.add_argument("--only", action="append", choices=["sqlite", "anonymize", "files", "postgres", "partitions", "plan", "idle"])
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args()
    for tool in ("sqlite3", "cc", "find", TIME):
        if not shutil.which(tool):
            raise SystemExit(f"bench: needs {tool}")
    # A mistyped previous build would otherwise show only after the first scenario's data is made.
    for executable in ("retentiond", "retentionctl") if args.previous_bin else ():
        if not os.access(os.path.join(args.previous_bin, executable), os.X_OK):
            raise SystemExit(f"bench: --previous-bin {args.previous_bin}: expected the executable {executable} there, found none")
    bench = Bench(args)
    scenarios = args.only or ["sqlite", "anonymize", "files", "postgres", "partitions", "plan", "idle"]
    try:
        for scenario in scenarios:
            getattr(bench, f"bench_{scenario}")()
    finally:
        shutil.rmtree(args.work, ignore_errors=True)
    print(f"\nMachine: {bench.machine()}\n")
    print(bench.table())
    for note in bench.notes:
        print(f"\n{note}")
    if bench.previous:
        print(f"\n{bench.previous_verdict()}")
    if args.json:
        with open(args.json, "w") as file:
            json.dump({"machine": bench.machine(), "rows": bench.rows}, file, indent=2)
    missed = [row for row in bench.rows if row.get("met") is False]
    print(f"\nTargets: {len(missed)} missed." if missed else "\nTargets: all met.")


if __name__ == "__main__":
    main()
