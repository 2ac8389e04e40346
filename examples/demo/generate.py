#!/usr/bin/env python3
"""Generate the demo data for `make demo`: a SQLite database and a tree of device log files.

    python3 examples/demo/generate.py [--out DIR] [--now ISO-DATE] [--seed N] [--scale F]

Writes, into DIR (default: the `data` directory next to this script, which examples/demo/stores.yaml
names with relative paths):

    crm.sqlite                                   synthetic records of the seeds' data categories
    device-logs/<device-id>/<YYYY-MM>/*.log      small log files, mtimes over the past 3 years

DIR is deleted and recreated on every run; a DIR holding anything else than what this script
writes is refused. Records are spread over the past 12 years up to --now (default: the current UTC
time), weighted towards recent years as a growing business would be. The same --seed and --now give
the same database; the same --seed gives the same row counts whatever --now is.

Conventions of the engine: timestamps are TEXT in UTC as 'YYYY-MM-DD HH:MM:SS' (SQLite's
datetime() format), NULL meaning that the event has not happened; keys are `id INTEGER PRIMARY
KEY`; every anchor column is indexed. All addresses are synthetic: e-mail domains are the
reserved example.com/.net/.org, IPv4 addresses come from the documentation and benchmarking
blocks (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 198.18.0.0/15) and IPv6 addresses from
2001:db8::/32.
"""

import argparse
import bisect
import datetime as dt
import ipaddress
import os
import random
import shutil
import sqlite3
import sys
import time

UTC = dt.timezone.utc
SCRIPT_DIR = os.path.dirname(os.path.abspath(__file__))
DB_NAME = "crm.sqlite"
LOGS_NAME = "device-logs"
# What a previous run may have left in DIR; anything else makes the script refuse to delete DIR.
OWN_ENTRIES = {DB_NAME, DB_NAME + "-journal", DB_NAME + "-wal", DB_NAME + "-shm", LOGS_NAME}

# Rows (and log files) at --scale 1.
SIZES = {
    "customers": 5000,
    "user_accounts": 6000,
    "contracts": 4000,
    "invoices": 12000,
    "credit_checks": 2500,
    "newsletter_signups": 4000,      # newsletter_optin_ips follows: one or two rows per sign-up
    "consent_withdrawals": 2500,
    "contact_enquiries": 3000,
    "website_visits": 40000,
    "device_log_files": 2000,
}

SCHEMA = """
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    customer_number TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    company TEXT,
    email TEXT NOT NULL,
    phone TEXT,
    country TEXT NOT NULL,
    language TEXT NOT NULL,
    created_at TEXT NOT NULL,
    marketing_opt_in INTEGER NOT NULL,
    direct_marketing_objected_at TEXT,          -- anchor of kmbe-direct-marketing-objection
    restricted_at TEXT                          -- set by retentiond when it restricts the row
);
CREATE TABLE user_accounts (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL,
    username TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at TEXT NOT NULL,                   -- anchor of kfs-user-accounts-never-logged-in
    first_login_at TEXT,                        -- NULL: never logged in (condition field)
    last_login_at TEXT                          -- anchor of kfs-user-accounts-inactive
);
CREATE TABLE contracts (
    id INTEGER PRIMARY KEY,
    contract_number TEXT NOT NULL UNIQUE,
    customer_id INTEGER NOT NULL,
    product TEXT NOT NULL,
    monthly_fee_cents INTEGER NOT NULL,
    term_months INTEGER NOT NULL,
    signed_at TEXT NOT NULL,
    started_at TEXT NOT NULL,
    ended_at TEXT                               -- anchor of kmbe-contracts; NULL: still running
);
CREATE TABLE invoices (
    id INTEGER PRIMARY KEY,
    invoice_number TEXT NOT NULL UNIQUE,
    customer_id INTEGER NOT NULL,
    contract_id INTEGER,
    issued_at TEXT NOT NULL,
    due_at TEXT NOT NULL,
    net_cents INTEGER NOT NULL,
    vat_cents INTEGER NOT NULL,
    currency TEXT NOT NULL,
    fiscal_year INTEGER NOT NULL,
    fiscal_year_end TEXT                        -- anchor of kmbe-tax-documents; NULL: year still open
);
CREATE TABLE credit_checks (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL,
    bureau TEXT NOT NULL,
    purpose TEXT NOT NULL,
    score INTEGER NOT NULL,
    rating TEXT NOT NULL,
    credit_limit_eur INTEGER NOT NULL,
    checked_at TEXT NOT NULL                    -- anchor of kmdk-credit-checks
);
CREATE TABLE newsletter_signups (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL,
    language TEXT NOT NULL,
    interests TEXT NOT NULL,
    signup_source TEXT NOT NULL,
    registered_at TEXT NOT NULL,
    confirmed_at TEXT,                          -- NULL: not confirmed (condition field)
    optin_link_deactivated_at TEXT,             -- anchor of kmbe-newsletter-unconfirmed
    unsubscribed_at TEXT
);
CREATE TABLE newsletter_optin_ips (
    id INTEGER PRIMARY KEY,
    signup_id INTEGER NOT NULL,                 -- newsletter_signups.id
    event TEXT NOT NULL,                        -- 'registration' or 'confirmation'
    ip TEXT NOT NULL,
    recorded_at TEXT NOT NULL                   -- anchor of kmbe-newsletter-optin-ip
);
CREATE TABLE consent_withdrawals (
    id INTEGER PRIMARY KEY,
    cmp TEXT NOT NULL,
    settings_id TEXT NOT NULL,
    controller_id TEXT NOT NULL,                -- the visitor's pseudonymous CMP id
    service TEXT NOT NULL,
    banner_version TEXT NOT NULL,
    language TEXT NOT NULL,
    consent_given_at TEXT NOT NULL,
    withdrawn_at TEXT NOT NULL                  -- anchor of kmbe-usercentrics-withdrawal-proof
);
CREATE TABLE contact_enquiries (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,
    name TEXT NOT NULL,
    company TEXT,
    email TEXT NOT NULL,
    phone TEXT,
    subject TEXT NOT NULL,
    message TEXT NOT NULL,
    received_at TEXT NOT NULL,
    closed_at TEXT                              -- anchor of kmdk-contact-enquiries; NULL: open
);
CREATE TABLE website_visits (
    id INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL,
    visited_at TEXT NOT NULL,                   -- anchor of demo-web-analytics
    ip TEXT,                                    -- anonymized: truncate-ip
    email TEXT,                                 -- anonymized: hmac-sha256; NULL: not logged in
    user_agent TEXT,                            -- anonymized: null
    path TEXT NOT NULL,
    referrer TEXT,
    status INTEGER NOT NULL,
    anonymized_at TEXT                          -- set by retentiond when it anonymizes the row
);
"""

# Index name -> (table, column): every anchor column, and the references used for joins.
INDEXES = [
    ("customers", "direct_marketing_objected_at"),
    ("user_accounts", "created_at"),
    ("user_accounts", "last_login_at"),
    ("user_accounts", "customer_id"),
    ("contracts", "ended_at"),
    ("contracts", "customer_id"),
    ("invoices", "fiscal_year_end"),
    ("invoices", "customer_id"),
    ("credit_checks", "checked_at"),
    ("newsletter_signups", "optin_link_deactivated_at"),
    ("newsletter_optin_ips", "recorded_at"),
    ("newsletter_optin_ips", "signup_id"),
    ("consent_withdrawals", "withdrawn_at"),
    ("contact_enquiries", "closed_at"),
    ("website_visits", "visited_at"),
]

# The summary's columns per table: anchors, then condition fields marked "(condition)".
SUMMARY = [
    ("customers", ["direct_marketing_objected_at"]),
    ("user_accounts", ["created_at", "last_login_at", "first_login_at (condition)"]),
    ("contracts", ["ended_at"]),
    ("invoices", ["fiscal_year_end"]),
    ("credit_checks", ["checked_at"]),
    ("newsletter_signups", ["optin_link_deactivated_at", "confirmed_at (condition)"]),
    ("newsletter_optin_ips", ["recorded_at"]),
    ("consent_withdrawals", ["withdrawn_at"]),
    ("contact_enquiries", ["closed_at"]),
    ("website_visits", ["visited_at"]),
]

FIRST_NAMES = [
    "Anna", "Lucas", "Emma", "Louis", "Olivia", "Noah", "Marie", "Arthur", "Lotte", "Jules",
    "Sofie", "Lars", "Mette", "Søren", "Freja", "Mads", "Ida", "Karin", "Erik", "Astrid",
    "Johan", "Elin", "Pieter", "Ines", "Thomas", "Julie", "Wout", "Fien", "Koen", "Nathalie",
    "Bart", "Els", "Hanne", "Mathis", "Camille", "Yasmine", "Mehmet", "Amira", "Jonas", "Laura",
]
LAST_NAMES = [
    "Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens", "Wouters",
    "De Smet", "Dubois", "Lambert", "Dupont", "Martin", "Hansen", "Nielsen", "Jensen", "Pedersen",
    "Andersen", "Larsen", "Andersson", "Johansson", "Karlsson", "Nilsson", "Lindqvist", "Vermeulen",
    "Van den Berg", "De Vries", "Leclercq", "Simon", "Yilmaz", "El Amrani", "Schmidt", "Müller",
]
COMPANY_WORDS = [
    "Atelier", "Logistics", "Consult", "Bouw", "Advocaten", "Dental", "Print", "Foods", "Tech",
    "Architecten", "Accountancy", "Transport", "Medical", "Immo", "Design", "Engineering",
]
COMPANY_FORMS = {"BE": ["BV", "NV", "SRL", "SA", "VZW"], "LU": ["SARL", "SA"], "NL": ["B.V.", "N.V."],
                 "DK": ["ApS", "A/S"], "SE": ["AB"], "DE": ["GmbH", "AG"]}
EMAIL_DOMAINS = ["example.com", "example.org", "example.net", "mail.example.com", "post.example.net"]
COUNTRIES = [("BE", "nl", 45), ("BE", "fr", 25), ("LU", "fr", 5), ("NL", "nl", 8), ("DK", "da", 10),
             ("SE", "sv", 4), ("DE", "de", 3)]
USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko",
    "Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/58.0.3029.110 Safari/537.36",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
]
PAGES = [
    "/", "/en/products/multifunction-printers", "/en/products/production-printing", "/en/services/managed-print",
    "/en/solutions/document-management", "/en/contact", "/en/newsletter", "/en/support/drivers", "/en/careers",
    "/nl/producten/multifunctionele-printers", "/nl/contact", "/fr/produits/imprimantes-multifonctions",
    "/fr/contact", "/da/produkter", "/en/webshop/toner", "/en/webshop/cart", "/en/account/login", "/en/privacy-policy",
]
REFERRERS = ["https://www.google.com/", "https://www.bing.com/", "https://www.linkedin.com/", "https://duckduckgo.com/",
             "https://newsletter.example.com/"]
PRODUCTS = [("MFP lease", 8900, 45000), ("Managed print services", 12000, 90000), ("Service and toner contract", 2500, 20000),
            ("Document management licence", 4000, 60000), ("Production printer lease", 90000, 350000)]
BUREAUS = ["Graydon", "Creditsafe", "Experian", "Dun & Bradstreet"]
CMP_SERVICES = ["Google Analytics", "Google Ads", "LinkedIn Insight Tag", "Facebook Pixel", "YouTube Video",
                "Marketo", "Hotjar", "Twitter Advertising"]
ENQUIRY_SUBJECTS = [
    ("Quote request", "Could you send us a quote for {n} multifunction printers for our office in {city}?"),
    ("Service request", "Our printer shows error C{n} since this morning. Can a technician come by?"),
    ("Toner order", "We would like to order {n} black toner cartridges for our TASKalfa."),
    ("Contract question", "When does our lease contract end, and what are the options for renewal?"),
    ("Invoice question", "Invoice {n} seems to be charged twice, could you check?"),
    ("Demo appointment", "We are interested in a demo of your document management solution for {n} users."),
    ("Job application", "Please find attached my application for the position of sales representative in {city}."),
    ("Privacy request", "Please tell me which personal data you hold about me."),
]
CITIES = ["Brussels", "Antwerp", "Ghent", "Liège", "Leuven", "Mechelen", "Namur", "Copenhagen", "Aarhus", "Luxembourg"]
DEVICE_MODELS = ["taskalfa-2554ci", "taskalfa-3253ci", "taskalfa-5053ci", "taskalfa-7054ci", "ecosys-m3655idn",
                 "ecosys-p3145dn", "ecosys-ma4000cifx", "ecosys-m8130cidn"]
LOG_KINDS = ["remote-access", "device-management", "firmware-update", "status-report"]
TECHNICIANS = ["t.jensen", "a.peeters", "m.dubois", "k.andersson", "s.nielsen", "l.maes"]


# --------------------------------------------------------------------------------------------------
# Time

def sql_time(t):
    """UTC (every instant here is) in SQLite's datetime() format; None stays None (NULL: the
    event has not happened)."""
    return None if t is None else t.isoformat(" ")[:19]


def parse_now(text):
    if text is None:
        return dt.datetime.now(UTC).replace(microsecond=0)
    text = text.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not an ISO date or date-time (2026-05-10, 2026-05-10T15:00:00Z)")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(microsecond=0)


def years_before(t, years):
    try:
        return t.replace(year=t.year - years)
    except ValueError:                                   # Feb 29
        return t.replace(year=t.year - years, day=28)


class Clock:
    """Random instants in the past, never after `now`."""

    def __init__(self, rng, now):
        self.rng = rng
        self.now = now
        self.start = years_before(now, 12)

    def between(self, lo, hi, growth=0.0):
        """An instant in [lo, hi]; with growth g the density rises like x**g towards hi."""
        hi = min(hi, self.now)
        if hi <= lo:
            return hi
        x = self.rng.random() ** (1.0 / (growth + 1.0))
        return lo + dt.timedelta(seconds=int((hi - lo).total_seconds() * x))

    def past(self, years=12, growth=1.0, recent_days=0, recent_share=0.0):
        """An instant over the past `years`, more of them in recent years; `recent_share` of them
        uniformly in the last `recent_days`."""
        if recent_share and self.rng.random() < recent_share:
            return self.between(self.now - dt.timedelta(days=recent_days), self.now)
        return self.between(years_before(self.now, years), self.now, growth)

    def after(self, t, seconds_lo, seconds_hi):
        """t plus a random delay; None when that is still in the future."""
        later = t + dt.timedelta(seconds=self.rng.randint(seconds_lo, seconds_hi))
        return later if later <= self.now else None

    def office_hours(self, t):
        """The same day (weekdays only) between 07:00 and 17:00 UTC, if that is not in the future."""
        if t.weekday() >= 5:
            t -= dt.timedelta(days=t.weekday() - 4)
        moved = t.replace(hour=self.rng.randint(7, 16), minute=self.rng.randint(0, 59), second=self.rng.randint(0, 59))
        return moved if moved <= self.now else t


# --------------------------------------------------------------------------------------------------
# People and addresses

ASCII = str.maketrans({"ø": "o", "ü": "u", "å": "a", "æ": "ae", "é": "e", "è": "e", "ç": "c", "ö": "o", " ": None})


def ascii_slug(text):
    return text.lower().translate(ASCII)


def person(rng):
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    local = rng.choice(["{f}.{l}", "{f}{l}", "{fi}{l}", "{f}.{l}{n}"]).format(
        f=ascii_slug(first), l=ascii_slug(last), fi=ascii_slug(first)[0], n=rng.randint(1, 99))
    return f"{first} {last}", f"{local}@{rng.choice(EMAIL_DOMAINS)}"


def company(rng, country):
    return f"{rng.choice(LAST_NAMES)} {rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_FORMS[country])}"


def phone(rng, country):
    prefix = {"BE": "+32 4", "LU": "+352 6", "NL": "+31 6", "DK": "+45 ", "SE": "+46 7", "DE": "+49 15"}[country]
    return prefix + "".join(str(rng.randint(0, 9)) for _ in range(8))


def country_language(rng):
    return rng.choices([(c, l) for c, l, _ in COUNTRIES], weights=[w for _, _, w in COUNTRIES])[0]


# Documentation (RFC 5737) and benchmarking (RFC 2544) blocks: never anyone's real address.
IPV4_NETS = [(192, 0, 2), (198, 51, 100), (203, 0, 113)] + [(198, 18 + i // 256, i % 256) for i in range(512)]


def ipv4(rng):
    a, b, c = rng.choice(IPV4_NETS)
    return f"{a}.{b}.{c}.{rng.randint(1, 254)}"


def ipv6(rng):
    # 2001:db8::/32 (RFC 3849); each /48 below it is one "site", the rest random.
    return str(ipaddress.IPv6Address((0x20010DB8 << 96) | rng.getrandbits(96)))


def ip_address(rng, v6_share=0.35):
    return ipv6(rng) if rng.random() < v6_share else ipv4(rng)


def hex_id(rng, digits):
    return f"{rng.getrandbits(4 * digits):0{digits}x}"


# --------------------------------------------------------------------------------------------------
# Tables

def n_of(name, scale):
    return max(1, round(SIZES[name] * scale))


def gen_customers(rng, clock, n):
    rows = []
    for i in range(1, n + 1):
        name, email = person(rng)
        country, language = country_language(rng)
        created = clock.office_hours(clock.past(growth=1.0))
        opt_in = rng.random() < 0.6
        objected = None
        if rng.random() < (0.15 if opt_in else 0.05):
            objected = clock.between(created, clock.now, growth=1.0)
        rows.append((i, f"C-{100000 + i}", name, company(rng, country) if rng.random() < 0.75 else None, email,
                     phone(rng, country) if rng.random() < 0.8 else None, country, language, sql_time(created),
                     int(opt_in), sql_time(objected), None))
    return rows


class Customers:
    """The customers by creation time, to find one that existed at a given instant."""

    def __init__(self, rows):
        self.refs = sorted(((dt.datetime.fromisoformat(r[8]).replace(tzinfo=UTC), r[0]) for r in rows))
        self.created = [c for c, _ in self.refs]

    def existing_at(self, rng, t):
        """(id, created_at) of a random customer created before t (the oldest one if none was)."""
        count = bisect.bisect_right(self.created, t)
        created, customer_id = self.refs[rng.randrange(count)] if count else self.refs[0]
        return customer_id, created


def gen_user_accounts(rng, clock, n, customers):
    rows, emails = [], []
    year = dt.timedelta(days=365)
    for i in range(1, n + 1):
        name, email = person(rng)
        role = rng.choices(["user", "admin", "service-technician"], weights=[85, 10, 5])[0]
        kind = rng.random()
        if kind < 0.10:                                  # never logged in
            created = clock.past(growth=1.5, recent_days=30, recent_share=0.2)
            first = last = None
        else:
            created = clock.past(growth=1.5)
            first = clock.after(created, 300, 5 * 86400)
            if first is None:                            # created moments ago: not yet
                last = None
            elif kind < 0.60:                            # active within the last year
                last = clock.between(max(first, clock.now - year), clock.now)
            elif kind < 0.90:                            # inactive for more than a year, often for years
                last = clock.between(first, clock.now - year if first < clock.now - year else clock.now)
            else:                                        # quiet for 6 to 12 months: due soon
                last = max(first, clock.between(clock.now - year, clock.now - dt.timedelta(days=182)))
        first_name, last_name = name.split(" ", 1)
        username = f"{ascii_slug(first_name)}.{ascii_slug(last_name)}{i}"
        rows.append((i, customers.existing_at(rng, created)[0], username, email, name, role,
                     sql_time(created), sql_time(first), sql_time(last)))
        emails.append(email)
    return rows, emails


def gen_contracts(rng, clock, n, customers):
    rows = []
    for i in range(1, n + 1):
        product, fee_lo, fee_hi = rng.choice(PRODUCTS)
        signed = clock.office_hours(clock.past(growth=1.0))
        customer = customers.existing_at(rng, signed)
        started = signed + dt.timedelta(days=rng.randint(0, min(30, (clock.now - signed).days)))
        term = rng.choice([12, 24, 36, 48, 60])
        planned_end = started + dt.timedelta(days=round(term * 30.44))
        ended = None
        if rng.random() < 0.05 and started < clock.now:  # terminated early
            ended = clock.between(started, min(planned_end, clock.now))
        elif planned_end <= clock.now and rng.random() < 0.75:
            ended = planned_end                          # the others were renewed tacitly and still run
        rows.append((i, f"KM-{signed.year}-{i:06d}", customer[0], product, rng.randint(fee_lo, fee_hi) // 100 * 100,
                     term, sql_time(signed), sql_time(started), sql_time(ended)))
    return rows


def fiscal_year_end(year, now):
    """The end of a calendar fiscal year, 31 December 23:59:59 Europe/Brussels (CET = UTC+1),
    in UTC; None while that year is still open."""
    end = dt.datetime(year, 12, 31, 22, 59, 59, tzinfo=UTC)
    return end if end <= now else None


def gen_invoices(rng, clock, n, customers, contracts):
    """About 70% periodic invoices of contracts, as many per contract as it has run, the rest
    one-off sales (webshop, toner, service calls)."""
    periods = []
    for c in contracts:
        started = dt.datetime.fromisoformat(c[7]).replace(tzinfo=UTC)
        ended = dt.datetime.fromisoformat(c[8]).replace(tzinfo=UTC) if c[8] else clock.now
        periods.append((c, started, max(started, ended)))
    total = sum((e - s).total_seconds() for _, s, e in periods) or 1.0
    wanted = 0.7 * n
    drafts = []
    for contract, started, ended in periods:
        share = wanted * (ended - started).total_seconds() / total
        for _ in range(int(share) + (rng.random() < share % 1)):
            drafts.append((contract[2], contract[0], clock.between(started, ended), contract[4] * rng.choice([1, 1, 1, 3])))
    rng.shuffle(drafts)
    del drafts[n:]
    while len(drafts) < n:
        issued = clock.past(growth=1.0)
        drafts.append((customers.existing_at(rng, issued)[0], None, issued,
                       rng.randint(20, 2500) * 100 + rng.choice([0, 50, 95])))
    drafts.sort(key=lambda d: d[2])                      # invoice numbers in issue order
    rows = []
    for i, (customer_id, contract_id, issued, net) in enumerate(drafts, 1):
        issued = clock.office_hours(issued)
        year = issued.year
        rows.append((i, f"INV-{year}-{i:06d}", customer_id, contract_id, sql_time(issued),
                     sql_time(issued + dt.timedelta(days=30)), net, round(net * 0.21), "EUR", year,
                     sql_time(fiscal_year_end(year, clock.now))))
    return rows


def gen_credit_checks(rng, clock, n, customers):
    rows = []
    for i in range(1, n + 1):
        if rng.random() < 0.6:                           # at onboarding
            customer_id, created = customers.existing_at(rng, clock.now)
            checked = clock.office_hours(max(clock.start, created - dt.timedelta(days=rng.randint(0, 10))))
            purpose = "new contract"
        else:
            checked = clock.office_hours(clock.past(growth=1.0))
            customer_id = customers.existing_at(rng, checked)[0]
            purpose = rng.choice(["contract change", "webshop credit", "limit review"])
        score = max(1, min(100, int(rng.gauss(68, 18))))
        rating = "A" if score >= 80 else "B" if score >= 65 else "C" if score >= 50 else "D" if score >= 30 else "E"
        limit = {"A": 50000, "B": 25000, "C": 10000, "D": 2500, "E": 0}[rating]
        rows.append((i, customer_id, rng.choice(BUREAUS), purpose, score, rating, limit, sql_time(checked)))
    return rows


def gen_newsletter(rng, clock, n):
    signups, ips = [], []
    link_valid = dt.timedelta(days=7)
    for i in range(1, n + 1):
        _, email = person(rng)
        country, language = country_language(rng)
        registered = clock.past(growth=1.5, recent_days=45, recent_share=0.05)
        confirmed = deactivated = unsubscribed = None
        if rng.random() < 0.8:
            confirmed = clock.after(registered, 30, 2 * 86400)
        if confirmed is None and registered + link_valid <= clock.now:
            deactivated = registered + link_valid        # the link lapsed unused; NULL while still valid
        if confirmed is not None and rng.random() < 0.25:
            unsubscribed = clock.between(confirmed, clock.now)
        interests = ",".join(sorted(rng.sample(["office printing", "production printing", "managed services",
                                                "document management", "events", "sustainability"], rng.randint(1, 3))))
        signups.append((i, email, language, interests, rng.choice(["website footer", "webshop checkout", "event", "contact form"]),
                        sql_time(registered), sql_time(confirmed), sql_time(deactivated), sql_time(unsubscribed)))
        ip = ip_address(rng)
        ips.append((len(ips) + 1, i, "registration", ip, sql_time(registered)))
        if confirmed is not None:
            ips.append((len(ips) + 1, i, "confirmation", ip if rng.random() < 0.6 else ip_address(rng), sql_time(confirmed)))
    return signups, ips


def gen_consent_withdrawals(rng, clock, n):
    rows = []
    settings = [hex_id(rng, 10) for _ in range(3)]
    for i in range(1, n + 1):
        # A consent management platform has been in place for 7 years, not 12.
        withdrawn = clock.past(years=7, growth=1.0)
        given = withdrawn - dt.timedelta(seconds=rng.randint(60, 2 * 365 * 86400))
        _, language = country_language(rng)
        rows.append((i, "Usercentrics", rng.choice(settings), hex_id(rng, 32), rng.choice(CMP_SERVICES),
                     f"{rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}", language,
                     sql_time(given), sql_time(withdrawn)))
    return rows


def gen_contact_enquiries(rng, clock, n):
    rows = []
    for i in range(1, n + 1):
        name, email = person(rng)
        country, _ = country_language(rng)
        received = clock.past(growth=1.0, recent_days=30, recent_share=0.03)
        subject, template = rng.choice(ENQUIRY_SUBJECTS)
        message = template.format(n=rng.randint(2, 9999), city=rng.choice(CITIES))
        recent = received > clock.now - dt.timedelta(days=30)
        closed = None
        if rng.random() >= (0.6 if recent else 0.02):   # open: mostly the recent ones, a few forgotten
            closed = clock.after(received, 1800, 21 * 86400)
        rows.append((i, rng.choice(["contact form", "contact form", "e-mail"]), name,
                     company(rng, country) if rng.random() < 0.6 else None, email,
                     phone(rng, country) if rng.random() < 0.5 else None, subject, message,
                     sql_time(received), sql_time(closed)))
    return rows


def gen_website_visits(rng, clock, n, known_emails):
    # Visitors return with the same address and browser; a fifth of them are logged in.
    visitors = []
    for _ in range(max(1, n // 6)):
        email = rng.choice(known_emails) if rng.random() < 0.2 else None
        visitors.append((ip_address(rng), rng.choices(USER_AGENTS, weights=[20, 10, 8, 8, 14, 14, 3, 1, 2, 3])[0], email))
    hour_weights = [1, 1, 1, 1, 1, 2, 4, 7, 9, 10, 10, 9, 8, 9, 10, 9, 8, 6, 5, 5, 4, 3, 2, 1]
    rows = []
    while len(rows) < n:
        ip, agent, email = visitors[int(len(visitors) * rng.random() ** 2)]
        t = clock.past(growth=2.0, recent_days=30, recent_share=0.1)
        moved = t.replace(hour=rng.choices(range(24), weights=hour_weights)[0], minute=rng.randint(0, 59))
        t = moved if moved <= clock.now else t
        session = hex_id(rng, 16)
        referrer = rng.choice(REFERRERS) if rng.random() < 0.5 else None
        for _ in range(min(1 + int(rng.expovariate(0.5)), n - len(rows))):   # the pages of one visit
            page = rng.choice(PAGES)
            rows.append((len(rows) + 1, session, sql_time(t), ip, email, agent, page, referrer,
                         rng.choices([200, 304, 404, 500], weights=[90, 6, 3, 1])[0], None))
            referrer = "https://www.example.com" + page
            t = min(t + dt.timedelta(seconds=rng.randint(5, 240)), clock.now)
    return rows


# --------------------------------------------------------------------------------------------------
# Device log files

def write_device_logs(rng, now, root, n):
    """n small .log files under root/<device-id>/<YYYY-MM>/, mtimes spread over the past 3 years;
    each directory's mtime is that of its newest entry. Returns the mtimes."""
    three_years = years_before(now, 3)
    devices = []
    for _ in range(max(1, n // 50)):
        model = rng.choice(DEVICE_MODELS)
        serial = rng.choice("RVWLN") + "".join(rng.choice("0123456789ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(9))
        # Most devices have been managed for more than 3 years; some joined the fleet later.
        commissioned = three_years
        if rng.random() < 0.3:
            commissioned += dt.timedelta(seconds=int((now - three_years).total_seconds() * rng.random()))
        devices.append((f"{model}-{serial.lower()}", commissioned, rng.uniform(0.5, 2.0)))
    weights = [w * (now - c).total_seconds() for _, c, w in devices]
    dir_mtimes, mtimes, written = {}, [], set()
    for _ in range(n):
        device, commissioned, _ = rng.choices(devices, weights=weights)[0]
        mtime = commissioned + dt.timedelta(seconds=int((now - commissioned).total_seconds() * rng.random()))
        kind = rng.choices(LOG_KINDS, weights=[4, 3, 1, 2])[0]
        directory = os.path.join(root, device, f"{mtime:%Y-%m}")
        if directory not in dir_mtimes:
            os.makedirs(directory, exist_ok=True)
        base = f"{kind}-{mtime:%Y%m%dT%H%M%SZ}"
        path, k = os.path.join(directory, base + ".log"), 1
        while path in written:
            k += 1
            path = os.path.join(directory, f"{base}-{k}.log")
        written.add(path)
        with open(path, "w", encoding="utf-8") as f:
            f.write(log_text(rng, kind, device, mtime))
        stamp = mtime.timestamp()
        os.utime(path, (stamp, stamp))
        mtimes.append(mtime)
        d = directory
        while True:                                      # the directories up to root, newest entry
            dir_mtimes[d] = max(dir_mtimes.get(d, 0.0), stamp)
            if d == root:
                break
            d = os.path.dirname(d)
    for d in dir_mtimes:                                 # after all files: creating entries would touch them again
        os.utime(d, (dir_mtimes[d], dir_mtimes[d]))
    return mtimes


def log_text(rng, kind, device, end):
    lines = []
    t = end - dt.timedelta(seconds=rng.randint(60, 3600))
    session = hex_id(rng, 12)
    who = rng.choice(TECHNICIANS)
    events = {
        "remote-access": [f"remote session {session} requested by {who}", "user accepted remote access on the panel",
                          f"remote session {session} connected from 2001:db8:{rng.randint(0, 0xffff):x}::{rng.randint(1, 0xfff):x}",
                          "panel view shared", "settings page opened: Network > TCP/IP",
                          f"remote session {session} closed by {who}"],
        "device-management": ["counter upload: total {c}, colour {cc}".format(c=rng.randint(10000, 900000), cc=rng.randint(1000, 400000)),
                              "toner level K {0}% C {1}% M {2}% Y {3}%".format(*(rng.randint(3, 100) for _ in range(4))),
                              f"address book sync: {rng.randint(5, 300)} entries", "job log upload: user login names included",
                              "maintenance kit status: ok"],
        "firmware-update": [f"firmware package 2V{rng.randint(0, 9)}_{rng.randint(1000, 9999)} scheduled by {who}",
                            "download complete, signature verified", "device rebooting", "firmware update finished"],
        "status-report": ["daily status report", f"paper jam count since last report: {rng.randint(0, 6)}",
                          f"last user login: user{rng.randint(1, 400)}", "status report sent"],
    }[kind]
    for message in events[: rng.randint(max(2, len(events) - 2), len(events))]:
        t = min(t + dt.timedelta(seconds=rng.randint(1, 300)), end)
        lines.append(f"{t:%Y-%m-%dT%H:%M:%SZ} {device} {kind}: {message}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------------
# The events that make several rules of one policy meet on one record (issue 11: erasure beats
# purpose, an obligation defers an erasure and the record is restricted meanwhile). Added after the
# tables above, from a stream of their own, so that the rows above stay as they were.

EVENT_COLUMNS = [
    ("user_accounts", "deactivated_at"),             # anchor of kfs-user-accounts-active (purpose)
    ("user_accounts", "deletion_requested_at"),      # anchor of kfs-user-account-deletion-requests (erasure, 30-day deadline)
    ("user_accounts", "self_deleted_at"),            # anchor of kfs-user-account-self-deletion (erasure)
    ("contracts", "erasure_upheld_at"),              # anchor of kmbe-erasure-request (erasure)
    ("contracts", "restricted_at"),                  # set by retentiond while an erasure is deferred
    ("invoices", "erasure_upheld_at"),
    ("invoices", "restricted_at"),
    ("credit_checks", "erasure_upheld_at"),          # anchors of kmdk-erasure-consent-withdrawn-or-objection
    ("credit_checks", "consent_withdrawn_at"),
    ("credit_checks", "objection_upheld_at"),
    ("contact_enquiries", "statutory_retention_ends_at"),   # anchor of kmdk-statutory-retention (obligation)
    ("contact_enquiries", "erasure_upheld_at"),
    ("contact_enquiries", "consent_withdrawn_at"),
    ("contact_enquiries", "objection_upheld_at"),
    ("contact_enquiries", "restricted_at"),
]
EVENT_INDEXES = [(t, c) for t, c in EVENT_COLUMNS if c != "restricted_at"] + [("newsletter_signups", "unsubscribed_at")]


def add_events(db, rng, clock):
    """A few records of each table get the events the policies name: deletion requests (some past
    their 30 days), self-deleted and deactivated accounts, upheld erasure requests on contracts,
    invoices, credit checks and enquiries (many still under a statutory period, so deferred and
    restricted), and statutory periods on some closed enquiries."""
    for table, column in EVENT_COLUMNS:
        db.execute(f"ALTER TABLE {table} ADD COLUMN {column} TEXT")
    def some(table, share, set_sql, values):
        ids = [row[0] for row in db.execute(f"SELECT id FROM {table} ORDER BY id")]
        for i in ids:
            if rng.random() < share:
                db.execute(f"UPDATE {table} SET {set_sql} WHERE id = ?", (*values(i), i))
    recent = lambda days: sql_time(clock.between(clock.now - dt.timedelta(days=days), clock.now))
    some("user_accounts", 0.02, "deactivated_at = ?", lambda i: (recent(900),))
    some("user_accounts", 0.015, "deletion_requested_at = ?", lambda i: (recent(60),))
    some("user_accounts", 0.01, "self_deleted_at = ?", lambda i: (recent(10),))
    for table in ["contracts", "invoices", "credit_checks"]:
        some(table, 0.02, "erasure_upheld_at = ?", lambda i: (recent(120),))
    some("contact_enquiries", 0.1, "statutory_retention_ends_at = ?",
         lambda i: (sql_time(clock.now + dt.timedelta(days=rng.randint(-400, 5 * 365))),))
    some("contact_enquiries", 0.04, "erasure_upheld_at = ?", lambda i: (recent(60),))


# --------------------------------------------------------------------------------------------------
# Main

def prepare_out(out):
    """Delete and recreate `out`, refusing a directory that holds anything this script does not write."""
    if os.path.islink(out):
        sys.exit(f"generate.py: {out} is a symbolic link; refusing to delete it")
    if os.path.exists(out):
        if not os.path.isdir(out):
            sys.exit(f"generate.py: {out} exists and is not a directory; refusing to delete it")
        foreign = sorted(set(os.listdir(out)) - OWN_ENTRIES)
        if foreign:
            sys.exit(f"generate.py: {out} holds {', '.join(foreign[:5])}{' ...' if len(foreign) > 5 else ''}, "
                     f"which this script does not write; refusing to delete it (remove it yourself or choose --out)")
        shutil.rmtree(out)
    os.makedirs(out)


def insert(db, table, rows):
    if rows:
        db.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[0]))})", rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Generate the retentiond demo data (SQLite database and device log files).")
    parser.add_argument("--out", default=os.path.join(SCRIPT_DIR, "data"),
                        help="output directory, deleted and recreated (default: the data directory next to this script)")
    parser.add_argument("--now", type=parse_now, default=None, metavar="ISO-DATE",
                        help="the end of the generated history, e.g. 2026-05-10 or 2026-05-10T15:00:00Z (default: now, UTC)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies every row and file count (default 1.0)")
    args = parser.parse_args(argv)
    if not args.scale > 0:
        parser.error("--scale must be greater than 0")
    now = args.now or parse_now(None)
    started = time.perf_counter()

    out = os.path.abspath(args.out)
    prepare_out(out)

    def stream(name):
        """Each table draws from its own generator, so that changing one leaves the others as they were."""
        rng = random.Random(f"{args.seed}:{name}")
        return rng, Clock(rng, now)

    def n(name):
        return n_of(name, args.scale)

    customers = gen_customers(*stream("customers"), n("customers"))
    customer_refs = Customers(customers)
    accounts, account_emails = gen_user_accounts(*stream("user_accounts"), n("user_accounts"), customer_refs)
    contracts = gen_contracts(*stream("contracts"), n("contracts"), customer_refs)
    invoices = gen_invoices(*stream("invoices"), n("invoices"), customer_refs, contracts)
    credit_checks = gen_credit_checks(*stream("credit_checks"), n("credit_checks"), customer_refs)
    signups, optin_ips = gen_newsletter(*stream("newsletter_signups"), n("newsletter_signups"))
    withdrawals = gen_consent_withdrawals(*stream("consent_withdrawals"), n("consent_withdrawals"))
    enquiries = gen_contact_enquiries(*stream("contact_enquiries"), n("contact_enquiries"))
    known_emails = account_emails + [r[4] for r in customers]
    visits = gen_website_visits(*stream("website_visits"), n("website_visits"), known_emails)

    db_path = os.path.join(out, DB_NAME)
    db = sqlite3.connect(db_path)
    db.execute("PRAGMA journal_mode = MEMORY")          # for this connection only: a fresh file, rewritten each run
    db.execute("PRAGMA synchronous = OFF")
    with db:
        db.executescript(SCHEMA)
        for table, rows in [("customers", customers), ("user_accounts", accounts), ("contracts", contracts),
                            ("invoices", invoices), ("credit_checks", credit_checks), ("newsletter_signups", signups),
                            ("newsletter_optin_ips", optin_ips), ("consent_withdrawals", withdrawals),
                            ("contact_enquiries", enquiries), ("website_visits", visits)]:
            insert(db, table, rows)
        add_events(db, *stream("events"))
        for table, column in INDEXES + EVENT_INDEXES:
            db.execute(f"CREATE INDEX {table}_{column} ON {table}({column})")
    db.execute("ANALYZE")
    db.commit()

    print(f"{db_path}  (now = {sql_time(now)} UTC, seed {args.seed}, scale {args.scale:g})")
    total = 0
    for table, columns in SUMMARY:
        rows = db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        total += rows
        nulls = []
        for column in columns:
            name = column.split()[0]
            count = db.execute(f"SELECT count(*) FROM {table} WHERE {name} IS NULL").fetchone()[0]
            nulls.append(f"{column} NULL: {count}")
        print(f"  {table:<22} {rows:>7} rows   {', '.join(nulls)}")
    db.close()
    print(f"  {'(total)':<22} {total:>7} rows")

    logs_root = os.path.join(out, LOGS_NAME)
    os.makedirs(logs_root)
    mtimes = write_device_logs(stream("device_logs")[0], now, logs_root, n("device_log_files"))
    year_ago = years_before(now, 1)
    devices = len(os.listdir(logs_root))
    print(f"{logs_root}  {len(mtimes)} .log files, {devices} device directories, "
          f"{sum(1 for m in mtimes if m < year_ago)} older than 1 year (mtime {sql_time(min(mtimes))} .. {sql_time(max(mtimes))})")
    print(f"done in {time.perf_counter() - started:.2f}s")


if __name__ == "__main__":
    main()
