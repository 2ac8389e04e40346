#!/usr/bin/env python3
"""SIGKILL torture: retentiond killed at random instants while it deletes, anonymizes and restricts.

    make torture                  # release build: 1,000,000 SQLite rows, 300,000 PostgreSQL rows,
                                  # 100,000 files, at least 100 kills landed in a job per kind
    make torture-smoke            # debug build, small sizes, 5 kills per kind (part of make test)
    scripts/with-postgres python3 scripts/torture.py --help

For each kind of store (SQLite, PostgreSQL, a directory of files) the script generates data of
which a known subset is due — due and not-due records interleaved in runs, records exactly at the
cutoff and one microsecond (files: one nanosecond) either side of it, null and unreadable anchors,
records held by `retentionctl hold add`, records an earlier run already anonymized or restricted —
then starts `retentiond --once` again and again, each time SIGKILLing it after a random delay,
until at least --kills kills have landed while a job was running (read from the state database's
`pass` and `job` tables after each kill), and lets the last life finish. Then it checks, against
the data as generated and an oracle of its own (anchor < cutoff, in Python):

- no record that was not due, was held, or was already done is changed or deleted;
- every due one is handled exactly as its action says (deleted; anonymized with the strategies'
  values, `hmac-sha256` applied exactly once; restricted);
- every job is `done`, no batch is left in flight, and per dataset the jobs' `done_count` and the
  audit records' `count` both equal the number of records handled;
- each audit record's `keys_sha256` equals the digest recomputed from the keys actually handled
  (docs/engine.md, "Keys digest"), its cutoff is the oracle's, and the chain verifies both here
  and by `retentionctl audit verify`;
- one more pass afterwards plans no job (a re-run is idempotent).

The clock cannot be fixed for the daemon, so the rules use `align: end-of-month` (UTC): the cutoff is
the first instant of the previous month and stays put all month. A run that crosses the end of a
UTC month stops with a message (run it again).

When the work runs out before enough kills landed, a new round starts on fresh data (and a fresh
state database); every round is checked. PostgreSQL runs only under scripts/with-postgres.
Exit status: 0 when every check passed, 1 otherwise.
"""

import argparse
import calendar
import datetime
import hashlib
import hmac
import ipaddress
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
US = 1_000_000
DAY_US = 86_400 * US

SIZES = {
    "full": dict(rows=1_000_000, pg_rows=300_000, files=100_000, kills=100, batch=64),
    "smoke": dict(rows=10_000, pg_rows=10_000, files=2_000, kills=5, batch=16),
}
HMAC_KEY = "torture-hmac-key-0123456789abcdef"
ACTIONS = ("anonymize", "restrict", "delete")


def log(message):
    print(message, file=sys.stderr, flush=True)


class TortureFailure(Exception):
    """A check failed: the message says what was expected, what was found and where."""


# -- the cutoff and the oracle ---------------------------------------------------------------------

def expected_cutoff(now):
    """The cutoff of `retain: 1mo, align: end-of-month` in UTC at `now`: an anchor in month M is
    due from the first of M+2, so everything before the first of the previous month is due."""
    year, month = now.year, now.month - 1
    if month == 0:
        year, month = year - 1, 12
    return datetime.datetime(year, month, 1, tzinfo=datetime.timezone.utc)


def epoch_us(moment):
    return calendar.timegm(moment.utctimetuple()) * US + moment.microsecond


def sqlite_text(us):
    """SQLite's datetime() shape with six fraction digits, UTC."""
    moment = datetime.datetime(1970, 1, 1) + datetime.timedelta(microseconds=us)
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


TEXT_TIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$")


def text_us(value):
    """The instant of a SQLite text anchor, or None when it is no time (never due)."""
    if not isinstance(value, str):
        return None
    match = TEXT_TIME.match(value)
    if not match:
        return None
    year, month, day, hour, minute, second, fraction = match.groups()
    if int(year) < 1:
        return None
    try:
        moment = datetime.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second))
    except ValueError:
        return None
    return epoch_us(moment.replace(tzinfo=datetime.timezone.utc)) + int((fraction or "0").ljust(6, "0"))


def truncate_ip(value):
    """docs/stores.md: IPv4 to its /24, IPv6 to its /48, anything else 0.0.0.0, NULL stays NULL."""
    if value is None:
        return None
    text = value.split("/", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return "0.0.0.0"
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{text}/{prefix}", strict=False).network_address)


def hmac_hex(value):
    if value is None:
        return None
    return hmac.new(HMAC_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


def keys_sum(keys):
    total = 0
    for key in keys:
        total += int.from_bytes(hashlib.sha256(f"{key}\n".encode()).digest(), "big")
    return total % 2**256


def digest_of_sum(total):
    return hashlib.sha256(total.to_bytes(32, "big")).hexdigest()


def state_sum(text):
    """The running sum of a job's `keys_digest` column: four hex limbs, least significant first."""
    limbs = text.split("/", 1)[0].split(":")
    return sum(int(limb, 16) << (64 * index) for index, limb in enumerate(limbs))


AUDIT_FIELDS = ["sequence", "job", "rule", "store", "dataset", "stage", "action", "outcome", "cutoff",
                "count", "started_at", "finished_at", "keys_sha256", "previous_hash"]


# -- data generation -------------------------------------------------------------------------------

class Layout:
    """Which records are due: runs of due and not-due records of random lengths (so that batches
    see both ranges and scattered keys), plus every 97th record a special case at the boundary."""

    def __init__(self, rng, cutoff_us, now_us, integer_seconds=False, nanoseconds=False):
        self.rng, self.cutoff, self.now = rng, cutoff_us, now_us
        self.run_left, self.due = 0, False
        step = US if integer_seconds else 1
        # (label, anchor in µs or a value that is no time, due?)
        self.specials = [("cutoff-1", cutoff_us - step, True), ("cutoff", cutoff_us, False),
                         ("cutoff+1", cutoff_us + step, False), ("null", None, False)]

    def next(self, index):
        if index % 97 == 50:
            return self.specials[(index // 97) % len(self.specials)]
        if self.run_left == 0:
            self.run_left, self.due = self.rng.randint(1, 120), self.rng.random() < 0.45
        self.run_left -= 1
        if self.due:
            return ("due", self.cutoff - self.rng.randint(1, 400 * DAY_US), True)
        # Not due: from the cutoff to beyond now (a few anchors lie in the future).
        return ("not-due", self.cutoff + self.rng.randint(0, self.now - self.cutoff + 40 * DAY_US), False)


def ip_for(rng, index):
    if index % 53 == 7:
        return f"2001:db8:{index % 65536:x}:{rng.randint(0, 65535):x}::{rng.randint(1, 65535):x}"
    if index % 211 == 3:
        return None
    if index % 307 == 5:
        return "not an address"
    return f"10.{index % 256}.{(index >> 8) % 256}.{rng.randint(1, 254)}"


# -- the stores ------------------------------------------------------------------------------------

class Kind:
    """One kind of store under torture: generates, resets, reads back and checks its data."""
    name = ""
    actions = ACTIONS

    def __init__(self, torture):
        self.t = torture
        self.estimates = {}
        self.work = torture.path(self.name)
        os.makedirs(self.work, exist_ok=True)

    @staticmethod
    def settles(report, where, act, action, key, row, original, done):
        """What every action shares: untouched unless acted on, gone when deleted (counted in
        `done`), present otherwise. True when the row still needs its action's own check."""
        if not act:
            if row != original:
                report.problem(f"{where}: must be untouched; expected {original}, found {row}")
            return False
        if action == "delete":
            if row is not None:
                report.problem(f"{where}: must be deleted; found {row}")
            else:
                done.append(key)
            return False
        if row is None:
            report.problem(f"{where}: must be {action}d, found deleted")
            return False
        return True

    def dataset_names(self):
        return {action: f"{action}s" for action in self.actions}


class SQLiteKind(Kind):
    """One SQLite file, three tables: rows/2 to delete (anchor in Unix seconds), rows/4 to
    anonymize and rows/4 to restrict (anchor as text with microseconds)."""
    name = "sqlite"
    store = "torture-sqlite"

    def __init__(self, torture, rows):
        super().__init__(torture)
        self.rows = {"delete": rows // 2, "anonymize": rows // 4, "restrict": rows - rows // 2 - rows // 4}
        self.template, self.database = os.path.join(self.work, "template.sqlite"), os.path.join(self.work, "store.sqlite")
        self.tables = {"delete": "del_events", "anonymize": "anon_events", "restrict": "restr_events"}

    def size(self):
        return f"{sum(self.rows.values()):,} rows"

    def stores_yaml(self, batch, actions):
        datasets = {
            "anonymize": f"""      anonymizes:
        table: anon_events
        key: id
        rules: [torture-anonymize]
        fields: {{ event_at: ts }}
        anonymize: {{ ip: truncate-ip, email: hmac-sha256, name: "null" }}
        anonymized-at: anonymized_at
        batch-size: {batch}
""",
            "restrict": f"""      restricts:
        table: restr_events
        key: id
        rules: [torture-restrict]
        fields: {{ event_at: ts }}
        restrict: restricted_at
        batch-size: {batch}
""",
            "delete": f"""      deletes:
        table: del_events
        key: id
        rules: [torture-delete]
        fields: {{ event_at: ts }}
        max-delete-share: 100%
        batch-size: {batch}
"""}
        return (f"version: 1\nstores:\n  {self.store}:\n    kind: sqlite\n    path: {self.database}\n    datasets:\n"
                + "".join(datasets[action] for action in actions))

    def generate(self, seed):
        if os.path.exists(self.template):
            os.remove(self.template)
        db = sqlite3.connect(self.template)
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = OFF")
        db.executescript("""
            CREATE TABLE del_events (id INTEGER PRIMARY KEY, ts INTEGER, email TEXT, note TEXT);
            CREATE TABLE anon_events (id INTEGER PRIMARY KEY, ts TEXT, ip TEXT, email TEXT, name TEXT, note TEXT, anonymized_at TEXT);
            CREATE TABLE restr_events (id INTEGER PRIMARY KEY, ts TEXT, email TEXT, note TEXT, restricted_at TEXT);
        """)
        self.candidates = {}
        for action in self.actions:
            rng = random.Random(f"{seed}-sqlite-{action}")
            layout = Layout(rng, self.t.cutoff_us, self.t.now_us, integer_seconds=action == "delete")
            due_keys, kept_keys = [], []

            def rows():
                for index in range(self.rows[action]):
                    key = index + 1
                    label, anchor, due = layout.next(index)
                    email = f"user{key}@example.com"
                    note = f"record {key} ({label})"
                    if action == "delete":
                        ts = None if anchor is None else anchor // US
                        if index % 1013 == 77:
                            ts, due = "not a time", False        # text in an INTEGER column: a bad value
                        (due_keys if due else kept_keys).append(key)
                        yield (key, ts, email, note)
                        continue
                    ts = None if anchor is None else sqlite_text(anchor)
                    if label == "cutoff":
                        ts = ts[:19]                            # exactly the cutoff, written without a fraction
                    if index % 1013 == 77:
                        ts, due = ("0000-00-00 00:00:00", False) if index % 2 else ("yesterday", False)
                    done = None
                    if due and index % 389 == 11:
                        done = "2020-01-01 00:00:00"            # done by an earlier run: never again
                        due = False
                    (due_keys if due else kept_keys).append(key)
                    if action == "anonymize":
                        yield (key, ts, ip_for(rng, index), None if index % 401 == 9 else email, f"Name {key}", note, done)
                    else:
                        yield (key, ts, email, note, done)
            marks = ", ".join("?" * {"delete": 4, "anonymize": 7, "restrict": 5}[action])
            db.executemany(f"INSERT INTO {self.tables[action]} VALUES ({marks})", rows())
            db.execute(f"CREATE INDEX {self.tables[action]}_ts ON {self.tables[action]} (ts)")
            self.candidates[action] = (due_keys, kept_keys)
        db.commit()
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("PRAGMA journal_mode = DELETE")
        db.close()

    def reset(self):
        for suffix in ("", "-wal", "-shm", "-journal"):
            if os.path.exists(self.database + suffix):
                os.remove(self.database + suffix)
        shutil.copyfile(self.template, self.database)
        db = sqlite3.connect(self.database)
        db.execute("PRAGMA journal_mode = WAL")      # as an application's database would be
        db.close()

    def hold_keys(self, rng):
        holds = {}
        for action in self.actions:
            due, kept = self.candidates[action]
            holds[action] = sorted(set(rng.sample(due, min(5, len(due))) + rng.sample(kept, min(2, len(kept)))))
        return holds

    def rows_of(self, path, action):
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            yield from db.execute(f"SELECT * FROM {self.tables[action]} ORDER BY id")
        finally:
            db.close()

    def check(self, holds, report, active):
        """Per action: the keys handled, after comparing every record with the template."""
        handled = {}
        for action in self.actions:
            held = set(holds[action])
            live = self.rows_of(self.database, action)
            current = next(live, None)
            done = []
            for original in self.rows_of(self.template, action):
                key = original[0]
                while current is not None and current[0] < key:
                    report.problem(f"{self.store}/{self.dataset_names()[action]}: key {current[0]} is not in the generated data")
                    current = next(live, None)
                row = current if current is not None and current[0] == key else None
                if row is not None:
                    current = next(live, None)
                anchor = original[1]
                if action == "delete":
                    due = isinstance(anchor, int) and anchor * US < self.t.cutoff_us
                else:
                    at = text_us(anchor)
                    due = at is not None and at < self.t.cutoff_us and original[-1] is None
                act = due and key not in held and action == active
                where = f"{self.store}/{self.dataset_names()[action]} key {key} (anchor {anchor!r}, {'held, ' if key in held else ''}{'due' if due else 'not due'})"
                if not self.settles(report, where, act, action, key, row, original, done):
                    continue
                if action == "anonymize":
                    expected = (key, anchor, truncate_ip(original[2]), hmac_hex(original[3]), None, original[5])
                    if row[:6] != expected or row[6] is None:
                        report.problem(f"{where}: must be anonymized once; expected {expected} + anonymized_at, found {row}")
                        continue
                else:
                    if row[:4] != original[:4] or row[4] is None:
                        report.problem(f"{where}: must be restricted; expected {original[:4]} + restricted_at, found {row}")
                        continue
                done.append(key)
            while current is not None:
                report.problem(f"{self.store}/{self.dataset_names()[action]}: key {current[0]} is not in the generated data")
                current = next(live, None)
            handled[action] = done
        return handled


class PostgresKind(Kind):
    """Three PostgreSQL tables (timestamptz anchors with microseconds), as for SQLite: rows/2 to
    delete, rows/4 to anonymize, rows/4 to restrict; the generated data kept in *_template."""
    name = "postgres"
    store = "torture-pg"

    def __init__(self, torture, rows):
        super().__init__(torture)
        self.rows = {"delete": rows // 2, "anonymize": rows // 4, "restrict": rows - rows // 2 - rows // 4}
        self.tables = {"delete": "torture_del", "anonymize": "torture_anon", "restrict": "torture_restr"}
        self.columns = {"delete": "id bigint PRIMARY KEY, ts timestamptz, email text, note text",
                        "anonymize": "id bigint PRIMARY KEY, ts timestamptz, ip text, email text, name text, note text, anonymized_at timestamptz",
                        "restrict": "id bigint PRIMARY KEY, ts timestamptz, email text, note text, restricted_at timestamptz"}

    def size(self):
        return f"{sum(self.rows.values()):,} rows"

    @staticmethod
    def psql(sql, data=None):
        command = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1"]
        if data is None:
            return subprocess.run(command + ["-f", "-"], input="SET client_min_messages = warning;\n" + sql, text=True,
                                  check=True, capture_output=True).stdout
        return subprocess.run(command + ["-c", sql], input=data, text=True, check=True, capture_output=True).stdout

    def stores_yaml(self, batch, actions):
        datasets = ""
        for action in actions:
            datasets += f"""      {self.dataset_names()[action]}:
        table: public.{self.tables[action]}
        key: id
        rules: [torture-{action}]
        fields: {{ event_at: ts }}
        batch-size: {batch}
"""
            datasets += {"anonymize": '        anonymize: { ip: truncate-ip, email: hmac-sha256, name: "null" }\n        anonymized-at: anonymized_at\n',
                         "restrict": "        restrict: restricted_at\n", "delete": "        max-delete-share: 100%\n"}[action]
        return f"version: 1\nstores:\n  {self.store}:\n    kind: postgres\n    dsn: {os.environ['RETENTIOND_TEST_POSTGRES_DSN']}\n    datasets:\n{datasets}"

    def generate(self, seed):
        self.candidates = {}
        for action in self.actions:
            table = self.tables[action]
            rng = random.Random(f"{seed}-pg-{action}")
            layout = Layout(rng, self.t.cutoff_us, self.t.now_us)
            due_keys, kept_keys, lines = [], [], []
            for index in range(self.rows[action]):
                key = index + 1
                label, anchor, due = layout.next(index)
                ts = "\\N" if anchor is None else sqlite_text(anchor) + "+00"
                if index % 1013 == 77:
                    ts, due = ("-infinity", False) if index % 2 else ("infinity", False)
                email = f"user{key}@example.com"
                note = f"record {key} ({label})"
                done = "\\N"
                if action != "delete" and due and index % 389 == 11:
                    done, due = "2020-01-01 00:00:00+00", False
                (due_keys if due else kept_keys).append(key)
                if action == "delete":
                    fields = [str(key), ts, email, note]
                elif action == "anonymize":
                    ip = ip_for(rng, index)
                    fields = [str(key), ts, "\\N" if ip is None else ip, "\\N" if index % 401 == 9 else email, f"Name {key}", note, done]
                else:
                    fields = [str(key), ts, email, note, done]
                lines.append("\t".join(fields))
            self.psql(f"SET TIME ZONE 'UTC'; DROP TABLE IF EXISTS {table}, {table}_template; CREATE TABLE {table}_template ({self.columns[action]});")
            self.psql(f"COPY {table}_template FROM STDIN", "\n".join(lines) + "\n")
            self.candidates[action] = (due_keys, kept_keys)

    def reset(self):
        sql = ""
        for action in self.actions:
            table = self.tables[action]
            sql += (f"DROP TABLE IF EXISTS {table}; CREATE TABLE {table} ({self.columns[action]}); "
                    f"INSERT INTO {table} SELECT * FROM {table}_template; CREATE INDEX ON {table} (ts); ANALYZE {table};\n")
        self.psql(sql)

    hold_keys = SQLiteKind.hold_keys

    def rows_of(self, table, action):
        # The anchor's instant in µs next to its text; every column as PostgreSQL prints it in UTC.
        columns = ", ".join(c.split()[0] + "::text" for c in self.columns[action].split(", ")[1:])
        out = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c",
                              f"SET TIME ZONE 'UTC'; COPY (SELECT id, CASE WHEN isfinite(ts) THEN (extract(epoch FROM ts) * 1000000)::bigint END, "
                              f"{columns} FROM {table} ORDER BY id) TO STDOUT"], check=True, capture_output=True, text=True).stdout
        for line in out.splitlines():
            fields = [None if value == "\\N" else value for value in line.split("\t")]
            yield (int(fields[0]), None if fields[1] is None else int(fields[1]), *fields[2:])

    def check(self, holds, report, active):
        handled = {}
        for action in self.actions:
            held = set(holds[action])
            live = {row[0]: row for row in self.rows_of(self.tables[action], action)}
            done = []
            seen = 0
            for original in self.rows_of(self.tables[action] + "_template", action):
                key, anchor_us = original[0], original[1]
                row = live.get(key)
                seen += row is not None
                due = anchor_us is not None and anchor_us < self.t.cutoff_us and (action == "delete" or original[-1] is None)
                act = due and key not in held and action == active
                where = f"{self.store}/{self.dataset_names()[action]} key {key} (anchor {original[2]!r}, {'held, ' if key in held else ''}{'due' if due else 'not due'})"
                if not self.settles(report, where, act, action, key, row, original, done):
                    continue
                if action == "anonymize":
                    expected = original[:3] + (truncate_ip(original[3]), hmac_hex(original[4]), None, original[6])
                    if row[:7] != expected or row[7] is None:
                        report.problem(f"{where}: must be anonymized once; expected {expected} + anonymized_at, found {row}")
                        continue
                elif row[:5] != original[:5] or row[5] is None:
                    report.problem(f"{where}: must be restricted; expected {original[:5]} + restricted_at, found {row}")
                    continue
                done.append(key)
            if seen != len(live):
                report.problem(f"{self.store}/{self.dataset_names()[action]}: {len(live) - seen} rows are not in the generated data")
            handled[action] = done
        return handled


class FilesKind(Kind):
    """A tree of `.log` files, 10 × 10 directories of files/100 each, plus `.txt` files the
    `match:` pattern leaves alone; mtimes to the nanosecond, some 1 ns either side of the cutoff."""
    name = "files"
    store = "torture-files"
    actions = ("delete",)

    def __init__(self, torture, files):
        super().__init__(torture)
        self.files = files
        self.root = os.path.join(self.work, "tree")

    def dataset_names(self):
        return {"delete": self.store}

    def size(self):
        return f"{self.files:,} files"

    def stores_yaml(self, batch, actions):
        return f"""version: 1
stores:
  {self.store}:
    kind: files
    path: {self.root}
    match: "*.log"
    rules: [torture-delete]
    fields: {{ event_at: mtime }}
    max-delete-share: 100%
    remove-empty-directories: true
    batch-size: {batch}
"""

    def generate(self, seed):
        """Only the truth: path → (mtime in ns, due); reset() writes the tree."""
        rng = random.Random(f"{seed}-files")
        layout = Layout(rng, self.t.cutoff_us, self.t.now_us)
        cutoff_ns = self.t.cutoff_us * 1000
        self.truth = {}
        per_directory = max(1, self.files // 100)
        for index in range(self.files):
            directory = f"d{index // per_directory // 10 % 10}/d{index // per_directory % 10}"
            label, anchor, _ = layout.next(index)
            if anchor is None:                       # a file always has an mtime: 1 ns either side of the cutoff
                mtime = cutoff_ns - 1 if (index // 97) % 8 < 4 else cutoff_ns + 1
            else:
                mtime = anchor * 1000 + (rng.randint(0, 999) if label in ("due", "not-due") else 0)
            name = f"{directory}/f{index:06d}.{'txt' if index % 499 == 13 else 'log'}"
            if directory == "d9/d9":
                # One directory of only due files: the job empties it, remove-empty-directories removes it.
                name, mtime = f"{directory}/f{index:06d}.log", cutoff_ns - 50 * DAY_US * 1000 - 1
            # docs/stores.md: a file's time is read in whole microseconds rounded up, so that none is
            # deleted before it is due; one less than 1 µs before an aligned cutoff waits.
            due = name.endswith(".log") and -(-mtime // 1000) < self.t.cutoff_us
            self.truth[name] = (mtime, due)
        self.candidates = {"delete": ([n for n, (_, d) in self.truth.items() if d and not n.startswith("d9/d9/")],
                                      [n for n, (_, d) in self.truth.items() if not d and n.endswith(".log")])}

    def reset(self):
        if os.path.exists(self.root):
            shutil.rmtree(self.root)
        made = set()
        for name, (mtime, _) in self.truth.items():
            path = os.path.join(self.root, name)
            directory = os.path.dirname(path)
            if directory not in made:
                os.makedirs(directory, exist_ok=True)
                made.add(directory)
            descriptor = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
            os.write(descriptor, name.encode() + b"\n")
            os.close(descriptor)
            os.utime(path, ns=(mtime, mtime))

    def hold_keys(self, rng):
        due, kept = self.candidates["delete"]
        keys = rng.sample(due, min(4, len(due))) + rng.sample(kept, min(2, len(kept)))
        return {"delete": sorted(set(keys)) + ["d3/d7"]}       # and a directory: every file below it

    def check(self, holds, report, active):
        held = holds["delete"]

        def is_held(name):
            return any(name == key or name.startswith(key + "/") for key in held)
        present = {}
        for directory, _, names in os.walk(self.root):
            for name in names:
                path = os.path.join(directory, name)
                present[os.path.relpath(path, self.root)] = os.stat(path, follow_symlinks=False).st_mtime_ns
        done = []
        for name, (mtime, due) in sorted(self.truth.items()):
            act = due and not is_held(name)
            where = f"{self.store} file {name} (mtime {mtime} ns, cutoff {self.t.cutoff_us * 1000} ns, {'held, ' if is_held(name) else ''}{'due' if due else 'not due'})"
            if act:
                if name in present:
                    report.problem(f"{where}: must be deleted; it is still there")
                else:
                    done.append(name)
            elif present.get(name) != mtime:
                report.problem(f"{where}: must be untouched; found {'no file' if name not in present else 'mtime ' + str(present[name])}")
        for name in present:
            if name not in self.truth:
                report.problem(f"{self.store}: file {name} was not generated")
        if os.path.isdir(os.path.join(self.root, "d9/d9")):
            left = os.listdir(os.path.join(self.root, "d9/d9"))
            if not [n for n in left if not n.endswith(".log")]:
                report.note("the directory d9/d9, emptied by the job, is still there (remove-empty-directories)")
        return {"delete": done}


# -- the torture -----------------------------------------------------------------------------------

class Report:
    def __init__(self, limit=20):
        self.problems, self.notes, self.limit, self.count = [], [], limit, 0

    def problem(self, text):
        self.count += 1
        if len(self.problems) < self.limit:
            self.problems.append(text)

    def note(self, text):
        self.notes.append(text)


class Torture:
    def __init__(self, args):
        self.args = args
        self.bin = os.path.abspath(args.bin)
        self.work = args.work
        os.makedirs(self.work, exist_ok=True)
        self.rng = random.Random(args.seed)
        now = datetime.datetime.now(datetime.timezone.utc)
        self.cutoff = expected_cutoff(now)
        self.cutoff_us, self.now_us = epoch_us(self.cutoff), epoch_us(now)
        self.key_file = self.path("hmac-key")
        with open(self.key_file, "w") as file:
            file.write(HMAC_KEY + "\n")
        self.rules = self.path("rules.yaml")
        with open(self.rules, "w") as file:
            file.write("version: 1\ndefaults: {timezone: UTC}\nrules:\n" + "".join(
                f"  torture-{action}:\n    title: torture {action}\n    retain: 1mo\n    from: event_at\n"
                f"    align: end-of-month\n    then: {action}\n    basis: the SIGKILL torture (scripts/torture.py)\n"
                for action in ACTIONS))
        self.results = []

    def path(self, *parts):
        return os.path.join(self.work, *parts)

    def ctl(self, kind, *arguments, check=True):
        command = [os.path.join(self.bin, "retentionctl"), *arguments]
        process = subprocess.run(command, capture_output=True, text=True)
        if check and process.returncode != 0:
            raise TortureFailure(f"{' '.join(command)} exited with {process.returncode}:\n{process.stderr[-3000:]}{process.stdout[-2000:]}")
        return process

    def common(self, kind):
        arguments = ["--rules", self.rules, "--stores", kind.stores, "--state", kind.state, "--init", "--hmac-key", self.key_file]
        if kind.name == "postgres":
            arguments += ["--postgres-password-file", os.environ["RETENTIOND_TEST_POSTGRES_PASSWORD_FILE"]]
        return arguments

    def daemon(self, kind):
        return [os.path.join(self.bin, "retentiond"), *self.common(kind), "--once", "--log-target", "console", "--log-level", "notice"]

    @staticmethod
    def read_state(path):
        """Passes, jobs and batches in flight, read without writing (no checkpoint, no recovery)."""
        if not os.path.exists(path):
            return {"passes": 0, "jobs": [], "batches": set()}
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        try:
            db.row_factory = sqlite3.Row
            passes = db.execute("SELECT count(*) FROM pass").fetchone()[0]
            jobs = [dict(row) for row in db.execute("SELECT id, dataset, action, state, done_count, planned_count, reason FROM job ORDER BY id")]
            batches = {row[0] for row in db.execute("SELECT job FROM batch")}
            return {"passes": passes, "jobs": jobs, "batches": batches}
        finally:
            db.close()

    def check_cutoff(self, kind):
        plan = json.loads(self.ctl(kind, "plan", *self.common(kind), "--all", "--format", "json").stdout)
        for entry in plan["entries"]:
            if entry.get("cutoff") != self.cutoff.strftime("%Y-%m-%dT%H:%M:%SZ"):
                raise TortureFailure(f"retentionctl plan gives the cutoff {entry.get('cutoff')} for {entry.get('dataset')}; "
                                     f"the torture's oracle expects {self.cutoff.isoformat()}")

    def torture(self, kind):
        """Rounds of kills until enough landed; returns the figures. Raises TortureFailure."""
        started = time.monotonic()
        log(f"{kind.name}: generating {kind.size()} (cutoff {self.cutoff.isoformat()})")
        kind.generate(self.args.seed)
        generated = time.monotonic() - started
        batch = self.args.batch_size
        # Every dataset for holds and the cutoff check; one dataset per phase for the daemon, so
        # that each action takes its share of the kills, and the other tables must stay untouched.
        kind.stores = kind.stores_all = kind.work + "/stores.yaml"
        with open(kind.stores_all, "w") as file:
            file.write(kind.stores_yaml(batch, kind.actions))
        figures = dict(kind=kind.name, size=kind.size(), batch_size=batch, rounds=0, lives=0, kills=0, landed=0,
                       landed_mid_batch=0, landed_by_action={a: 0 for a in kind.actions}, missed_before_pass=0,
                       missed_outside_job=0, jobs=0, audit_records=0, settled_batches=0, handled=0,
                       held=0, generate_s=generated)
        kind.state = os.path.join(kind.work, "state.sqlite")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(kind.state + suffix):
                os.remove(kind.state + suffix)
        # One state database for all rounds: the holds stay, the audit chain grows round by round.
        kind.reset()
        kind.holds = kind.hold_keys(random.Random(f"{self.args.seed}-holds"))
        for action, keys in kind.holds.items():
            for key in keys:
                self.ctl(kind, "hold", "add", *self.common(kind), "--store", kind.store, "--dataset", kind.dataset_names()[action],
                         "--key", str(key), "--reason", "torture: held record", "--by", "torture")
        figures["held"] = sum(len(keys) for keys in kind.holds.values())
        self.check_cutoff(kind)
        share = -(-self.args.kills // len(kind.actions))
        for action in kind.actions:
            kind.stores = f"{kind.work}/stores-{action}.yaml"
            with open(kind.stores, "w") as file:
                file.write(kind.stores_yaml(batch, (action,)))
            rounds = 0
            while figures["landed_by_action"][action] < share:
                if rounds >= self.args.max_rounds:
                    raise TortureFailure(f"{kind.name}: {figures['landed_by_action'][action]} kills landed in {action} jobs in {rounds} rounds, "
                                         f"not {share}: the data is too small to take so many kills")
                rounds += 1
                self.round(kind, figures, action, share)
        figures["seconds"] = time.monotonic() - started
        return figures

    def round(self, kind, figures, action, share):
        """Fresh data, then lives of `retentiond --once` on `action`'s dataset, killed until
        `share` kills landed in its jobs (or the work is done); then every check."""
        figures["rounds"] += 1
        number = figures["rounds"]
        if number > 1:
            kind.reset()
        holds = kind.holds
        jobs_before = len(self.read_state(kind.state)["jobs"])
        daemon_log = os.path.join(kind.work, f"daemon-{number}.log")
        work_left = len(kind.candidates[action][0])
        # Records per second in a pass, seconds to the pass, and the estimates built on them: kept
        # from round to round of the same action.
        estimate = kind.estimates.setdefault(action, {"throughput": [], "startup": [], "boot": 0.3, "planning": 1.0})
        throughput, startup = estimate["throughput"], estimate["startup"]
        log(f"{kind.name}: round {number}, {action}: {work_left:,} records due (some of them held)")
        begun = time.monotonic()
        finished = False
        with open(daemon_log, "ab") as output:
            while not finished:
                before = self.read_state(kind.state)
                needed = share - figures["landed_by_action"][action]
                mine = before["jobs"][jobs_before:]
                # Once the round's job is done, the next life runs to its end (it finds nothing
                # due): a round ends with a pass that finished by itself.
                want_kill = needed > 0 and not any(job["state"] == "done" for job in mine)
                done_before = sum(job["done_count"] for job in mine)
                # The window, from the start of the process: its start-up, the planning of the job
                # while there is none yet (a resumed job runs before anything is planned), then the
                # expected rest of the pass, shortened so that the kills still needed fit into the
                # work left (all estimated from the lives so far), and a little more so that the
                # end of a pass (the audit record, the exit) is within reach too.
                if startup:
                    estimate["boot"] = statistics.median(startup)
                boot, planning = estimate["boot"], estimate["planning"]
                rest = max(0.0, (work_left - done_before) / statistics.median(throughput)) if throughput else 2.0
                window = boot * 1.2 + (0 if mine else planning) + min(rest, max(0.1, 2 * rest / max(1, needed))) + 0.1
                if not mine and "full" in estimate:
                    # Never beyond what a whole pass from fresh data took when it was let run.
                    window = min(window, estimate["full"])
                delay = self.rng.uniform(0, window)
                launched = time.monotonic()
                wall_launch = time.time()
                process = subprocess.Popen(self.daemon(kind), stdout=output, stderr=output)
                figures["lives"] += 1
                killed = False
                try:
                    process.wait(timeout=delay if want_kill else self.args.life_timeout)
                except subprocess.TimeoutExpired:
                    if not want_kill:
                        process.kill()
                        process.wait()
                        raise TortureFailure(f"{kind.name}: the last life ran longer than {self.args.life_timeout} s; log {daemon_log}")
                    process.send_signal(signal.SIGKILL)
                    process.wait()
                    killed = True
                lived = time.monotonic() - launched
                after = self.read_state(kind.state)
                if killed:
                    figures["kills"] += 1
                    running = [job for job in after["jobs"] if job["state"] == "running"]
                    pass_start = self.pass_started(kind.state, before["passes"])
                    if after["passes"] == before["passes"]:
                        figures["missed_before_pass"] += 1
                        if not startup:
                            estimate["boot"] = max(boot, lived * 1.5)
                    elif not running:
                        figures["missed_outside_job"] += 1
                        if len(after["jobs"]) == jobs_before:          # killed while planning
                            estimate["planning"] = max(planning, (lived - max(0.0, pass_start - wall_launch)) * 1.5)
                    else:
                        figures["landed"] += 1
                        figures["landed_by_action"][running[0]["action"]] += 1
                        if running[0]["id"] in after["batches"]:
                            figures["landed_mid_batch"] += 1
                    if pass_start is not None:
                        startup.append(max(0.0, pass_start - wall_launch))
                        in_pass = lived - startup[-1]
                        progress = sum(job["done_count"] for job in after["jobs"][jobs_before:]) - done_before
                        if in_pass > 0.05 and progress > 0:
                            throughput.append(progress / in_pass)
                    continue
                if want_kill and not mine:
                    estimate["full"] = min(estimate.get("full", lived), lived)
                if process.returncode != 0:
                    raise TortureFailure(f"{kind.name}: retentiond --once exited with {process.returncode} (round {number}); "
                                         f"its log: {daemon_log}\n{self.tail(daemon_log)}")
                open_jobs = [job for job in after["jobs"] if job["state"] != "done"]
                if open_jobs:
                    raise TortureFailure(f"{kind.name}: a pass ended with jobs not done: {open_jobs}; log {daemon_log}")
                finished = True
        log(f"{kind.name}: round {number}: {figures['landed']} kills landed so far ({figures['landed_mid_batch']} mid-batch), "
            f"{figures['lives']} lives, {time.monotonic() - begun:.0f} s; checking")
        with open(daemon_log, errors="replace") as file:
            figures["settled_batches"] += sum("settled a batch interrupted by a crash" in line for line in file)
        self.verify(kind, holds, figures, jobs_before, action)

    @staticmethod
    def pass_started(state, passes_before):
        """Unix time at which the first pass after `passes_before` started, if one did."""
        db = sqlite3.connect(f"file:{state}?mode=ro", uri=True, timeout=10)
        try:
            row = db.execute("SELECT started_at FROM pass ORDER BY id LIMIT 1 OFFSET ?", (passes_before,)).fetchone()
        finally:
            db.close()
        if row is None:
            return None
        text = row[0].rstrip("Z")
        moment = datetime.datetime.fromisoformat(text if "." in text else text + ".0")
        return moment.replace(tzinfo=datetime.timezone.utc).timestamp()

    @staticmethod
    def tail(path, size=3000):
        with open(path, "rb") as file:
            file.seek(0, os.SEEK_END)
            file.seek(max(0, file.tell() - size))
            return file.read().decode(errors="replace")

    def verify(self, kind, holds, figures, jobs_before, active):
        report = Report()
        handled = kind.check(holds, report, active)
        db = sqlite3.connect(f"file:{kind.state}?mode=ro", uri=True)
        db.row_factory = sqlite3.Row
        every_job = [dict(row) for row in db.execute("SELECT * FROM job ORDER BY id")]
        jobs = every_job[jobs_before:]         # this round's
        audit = [dict(row) for row in db.execute("SELECT * FROM audit ORDER BY sequence")]
        batches = db.execute("SELECT count(*) FROM batch").fetchone()[0]
        db.close()
        if batches:
            report.problem(f"{batches} batches are still recorded as in flight")
        cutoff_text = self.cutoff.strftime("%Y-%m-%dT%H:%M:%SZ")
        by_job = {record["job"]: record for record in audit}
        for action in kind.actions:
            dataset = kind.dataset_names()[action]
            mine = [job for job in jobs if job["dataset"] == dataset]
            keys = handled[action]
            where = f"{kind.store}/{dataset} ({action})"
            if not mine and keys:
                report.problem(f"{where}: {len(keys)} records handled, but no job")
            if len(mine) > 1:
                # Nothing changes the data behind the daemon's back, so one job does it all: a second
                # one means a job was marked done while records it was planned for were still due.
                report.problem(f"{where}: {len(mine)} jobs in one round, not 1 (planned/done: "
                               + ", ".join(f"#{job['id']} {job['planned_count']}/{job['done_count']}" for job in mine) + ")")
            for job in mine:
                if job["state"] != "done" or job["action"] != action:
                    report.problem(f"{where}: job {job['id']} is {job['state']} ({job['action']}): {job['reason']}")
                if job["cutoff"] != cutoff_text:
                    report.problem(f"{where}: job {job['id']} has the cutoff {job['cutoff']}, the oracle's is {cutoff_text}")
                record = by_job.get(job["id"])
                if record is None:
                    report.problem(f"{where}: job {job['id']} has no audit record")
                    continue
                if record["count"] != job["done_count"]:
                    report.problem(f"{where}: job {job['id']}: audit count {record['count']}, done_count {job['done_count']}")
                if record["keys_sha256"] != digest_of_sum(state_sum(job["keys_digest"])):
                    report.problem(f"{where}: job {job['id']}: audit keys_sha256 {record['keys_sha256']} is not the digest of the job's running sum")
                if record["cutoff"] != cutoff_text:
                    report.problem(f"{where}: audit record {record['sequence']} has the cutoff {record['cutoff']}")
            counted = sum(job["done_count"] for job in mine)
            audited = sum(by_job[job["id"]]["count"] for job in mine if job["id"] in by_job)
            if counted != len(keys) or audited != len(keys):
                report.problem(f"{where}: {len(keys)} records handled; the jobs' done_count adds up to {counted}, the audit counts to {audited}")
            expected = keys_sum(keys)
            if len(mine) == 1 and mine[0]["id"] in by_job:
                if by_job[mine[0]["id"]]["keys_sha256"] != digest_of_sum(expected):
                    report.problem(f"{where}: audit keys_sha256 {by_job[mine[0]['id']]['keys_sha256']}, "
                                   f"the digest of the {len(keys)} keys handled is {digest_of_sum(expected)}")
            elif sum(state_sum(job["keys_digest"]) for job in mine) % 2**256 != expected:
                report.problem(f"{where}: the {len(mine)} jobs' key digests do not add up to the digest of the {len(keys)} keys handled")
            figures["handled"] += len(keys)
        previous = "0" * 64
        for index, record in enumerate(audit, start=1):
            text = "\n".join(str(record[field]) for field in AUDIT_FIELDS)
            if record.get("note") is not None:
                text += "\n" + record["note"]
            if record["sequence"] != index or record["previous_hash"] != previous or hashlib.sha256(text.encode()).hexdigest() != record["hash"]:
                report.problem(f"audit record {record['sequence']} does not chain (recomputed as docs/engine.md says)")
            previous = record["hash"]
        # With the key, where this version's verify takes it (a keyed chain's MACs are checked too).
        verify = self.ctl(kind, "audit", "verify", "--state", kind.state, "--hmac-key", self.key_file, check=False)
        if verify.returncode != 0 and "Unknown option '--hmac-key'" in verify.stderr:
            verify = self.ctl(kind, "audit", "verify", "--state", kind.state, check=False)
        if verify.returncode != 0 or "intact" not in verify.stdout:
            report.problem(f"retentionctl audit verify: {verify.stdout.strip()} {verify.stderr.strip()}")
        figures["jobs"] += len(jobs)
        figures["audit_records"] = len(audit)
        # One more pass: nothing is due any more, so no job is planned and no record changes.
        again = subprocess.run(self.daemon(kind), capture_output=True, text=True)
        if again.returncode != 0:
            report.problem(f"a pass after the torture failed ({again.returncode}): {again.stderr[-2000:]}")
        elif len(self.read_state(kind.state)["jobs"]) != len(every_job):
            report.problem(f"a pass after the torture planned new jobs: {self.read_state(kind.state)['jobs'][len(every_job):]}")
        for note in report.notes:
            log(f"{kind.name}: note: {note}")
        if report.count:
            raise TortureFailure(f"{kind.name}: {report.count} problems (round {figures['rounds']}); the first:\n  "
                                 + "\n  ".join(report.problems))
        log(f"{kind.name}: round {figures['rounds']} checked: {sum(len(k) for k in handled.values()):,} records handled exactly, "
            f"{len(jobs)} jobs, {len(audit)} audit records, chain intact")


def table(results):
    lines = ["| store | size | batch | kills landed in a job (mid-batch) | by action | kills outside a job | lives | rounds | jobs | records handled | held | settled batches | time |",
             "|---|---|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for f in results:
        by_action = ", ".join(f"{a} {n}" for a, n in f["landed_by_action"].items())
        lines.append(f"| {f['kind']} | {f['size']} | {f['batch_size']} | {f['landed']} ({f['landed_mid_batch']}) | {by_action} | "
                     f"{f['missed_before_pass'] + f['missed_outside_job']} | {f['lives']} | {f['rounds']} | {f['jobs']} | {f['handled']:,} | "
                     f"{f['held']} | {f['settled_batches']} | {f['seconds']:.0f} s (generation {f['generate_s']:.0f} s) |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 2)[2])
    parser.add_argument("--size", choices=SIZES, default="full", help="defaults for the sizes below (full or smoke)")
    parser.add_argument("--kills", type=int, help="kills that must land in a job, per kind of store")
    parser.add_argument("--rows", type=int, help="rows of the SQLite store (split over its three tables)")
    parser.add_argument("--pg-rows", type=int, help="rows of the PostgreSQL tables")
    parser.add_argument("--files", type=int, help="files of the files store")
    parser.add_argument("--batch-size", type=int, help="records per batch (default 64; smoke 16)")
    parser.add_argument("--only", action="append", choices=["sqlite", "postgres", "files"], help="only this kind (repeatable)")
    parser.add_argument("--bin", default=os.path.join(ROOT, ".build", "release"), help="where retentiond and retentionctl are")
    parser.add_argument("--work", default=os.path.join(tempfile.gettempdir(), f"retentiond-torture-{os.getpid()}"), help="scratch directory")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    parser.add_argument("--seed", default=str(random.SystemRandom().randrange(10**9)), help="the random seed (printed; give it to repeat a run's data)")
    parser.add_argument("--max-rounds", type=int, default=50)
    parser.add_argument("--life-timeout", type=float, default=3600, help="seconds the last, unkilled life may take")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    size = SIZES[args.size]
    args.kills = args.kills or size["kills"]
    for name in ("rows", "pg_rows", "files", "batch_size"):
        if getattr(args, name) is None:
            setattr(args, name, size[name.replace("_size", "")])
    kinds = args.only or ["sqlite", "postgres", "files"]
    if "postgres" in kinds and not os.environ.get("RETENTIOND_TEST_POSTGRES_DSN"):
        if os.environ.get("RETENTIOND_REQUIRE_POSTGRES") == "1":
            raise SystemExit("torture: PostgreSQL required but no server (run under scripts/with-postgres)")
        log("torture: PostgreSQL skipped: no server (run under scripts/with-postgres)")
        kinds = [k for k in kinds if k != "postgres"]
    torture = Torture(args)
    log(f"torture: seed {args.seed}, {args.kills} kills per kind, binaries in {torture.bin}, scratch {args.work}")
    failed = []
    try:
        for name in kinds:
            kind = {"sqlite": lambda: SQLiteKind(torture, args.rows), "postgres": lambda: PostgresKind(torture, args.pg_rows),
                    "files": lambda: FilesKind(torture, args.files)}[name]()
            try:
                torture.results.append(torture.torture(kind))
            except TortureFailure as failure:
                failed.append(name)
                log(f"torture: FAILED: {failure}")
        month = expected_cutoff(datetime.datetime.now(datetime.timezone.utc))
        if month != torture.cutoff:
            raise SystemExit("torture: the UTC month changed during the run, so the cutoff moved; run it again")
    finally:
        if not args.keep and not failed:
            shutil.rmtree(args.work, ignore_errors=True)
    print(table(torture.results))
    if args.json:
        with open(args.json, "w") as file:
            json.dump({"seed": args.seed, "results": torture.results}, file, indent=2)
    if failed:
        print(f"\ntorture: FAILED for {', '.join(failed)} (seed {args.seed}; scratch kept in {args.work})")
        sys.exit(1)
    print(f"\ntorture: every check passed (seed {args.seed})")


if __name__ == "__main__":
    main()
