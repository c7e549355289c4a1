#!/usr/bin/env python3
"""Judges a `make compat` run: for each client, did it answer, did the real key (and only the
real key) reach the vendor, did the key the stand-in echoed come back masked, and did any
telemetry path get through. Writes a Markdown report; exits 1 on any failure."""
import argparse
import collections
import json
import os
import re
import sys

# Paths airlock's default telemetry list blocks on hosts it intercepts; none may arrive.
TELEMETRY = [("play.googleapis.com", "/log"), ("ab.chatgpt.com", "/otlp"),
             ("chatgpt.com", "/backend-api/codex/analytics-events/"),
             ("api.anthropic.com", "/api/event_logging/"),
             ("api.anthropic.com", "/api/claude_code/metrics"),
             ("cloudcode-pa.googleapis.com", "/v1internal:recordCodeAssistMetrics")]

# The stand-in's echo of the key as airlock must leave it: masked, a scheme word kept.
MASKED = re.compile(r"airlock-compat-pong key=(Bearer )?\*{20,}")

CREDENTIAL_HOSTS = {"api.anthropic.com", "api.openai.com", "generativelanguage.googleapis.com",
                    "api.mistral.ai", "api.groq.com", "openrouter.ai", "huggingface.co",
                    "router.huggingface.co", "api.github.com", "github.com", "gitlab.com"}

# Which vendor each client talks to, and the field its key must arrive in.
VENDOR = {"claude-code": "anthropic", "codex": "openai", "gemini-cli": "gemini",
          "anthropic-sdk": "anthropic", "openai-sdk": "openai", "curl-anthropic": "anthropic",
          "curl-openai": "openai", "curl-gemini": "gemini", "node-absolute-https": "anthropic",
          "sdk-mistral": "mistral", "sdk-groq": "groq", "sdk-openrouter": "openrouter",
          "sdk-huggingface": "huggingface", "sdk-github": "github", "sdk-gitlab": "gitlab"}
FIELD = {"anthropic": ("x-api-key", "{}"), "openai": ("authorization", "Bearer {}"),
         "gemini": ("x-goog-api-key", "{}"), "mistral": ("authorization", "Bearer {}"),
         "groq": ("authorization", "Bearer {}"), "openrouter": ("authorization", "Bearer {}"),
         "huggingface": ("authorization", "Bearer {}"), "github": ("authorization", "Bearer {}"),
         "gitlab": ("authorization", "Bearer {}")}
PACKAGE = {"claude-code": "@anthropic-ai/claude-code", "codex": "@openai/codex",
           "gemini-cli": "@google/gemini-cli", "anthropic-sdk": "@anthropic-ai/sdk",
           "openai-sdk": "openai", "sdk-mistral": "@mistralai/mistralai", "sdk-groq": "groq-sdk",
           "sdk-openrouter": "openai", "sdk-huggingface": "@huggingface/hub",
           "sdk-github": "@octokit/rest", "sdk-gitlab": "@gitbeaker/rest"}


def vendor_of(name):
    for prefix, vendor in VENDOR.items():
        if name.startswith(prefix):
            return prefix, vendor
    raise SystemExit(f"compat: no vendor known for {name}")


def host_of(record):
    return record["host"].split(":")[0]


def judge_doctor(run, stdout):
    """airlock doctor's verdict: every runtime passes, Bun and Deno among them."""
    problems = []
    try:
        report = json.loads(stdout)
    except ValueError:
        return ["doctor printed no JSON"], []
    results = {r["name"]: r["result"] for r in report["runtimes"]}
    passed = "ok"
    if run["status"] != 0 or not report["ok"]:
        problems.append("doctor failed: " + ", ".join(
            f"{r['name']} {r['result']}: {r['fix']}" for r in report["runtimes"]
            if r["result"] != passed))
    for name in ("bun", "deno", "node", "curl", "python3"):
        if results.get(name) != passed:
            problems.append(f"doctor: {name} {results.get(name, 'not found')}")
    return problems, [", ".join(f"{n} {r}" for n, r in sorted(results.items()))]


def judge(run, records, outputs, secrets, placeholder):
    prefix, vendor = vendor_of(run["name"])
    field, form = FIELD[vendor]
    mine = records[run["first"]:run["last"]]
    problems = []
    if run["status"] != 0:
        problems.append(f"exit status {run['status']}")
    if "airlock-compat-pong" not in outputs:
        problems.append("the stand-in's answer never reached the client's output")
    expected = form.format(secrets[vendor])
    if not any(r["headers"].get(field) == expected for r in mine):
        problems.append(f"no request reached the vendor with the real key in {field}")
    notes = set()
    for r in mine:
        if placeholder in json.dumps(r["headers"]) or placeholder in r["path"]:
            where = f"{host_of(r)}{r['path'].split('?')[0]}"
            # Where a rule injects, the client's own key must be gone; elsewhere airlock
            # adds nothing and cannot know a placeholder from the agent's own login.
            if host_of(r) in CREDENTIAL_HOSTS:
                problems.append(f"placeholder reached {where}")
            else:
                notes.add(f"placeholder passed to {where} (no rule there)")
        for host, path in TELEMETRY:
            if host_of(r) == host and r["path"].startswith(path):
                problems.append(f"telemetry reached {host}{path}")
    for name, value in secrets.items():
        if value in outputs:
            problems.append(f"the raw {name} key reached the client's output")
    if "airlock-compat-pong" in outputs and not MASKED.search(outputs):
        problems.append("the echoed key was not masked")
    return prefix, mine, problems, sorted(notes)


def refusals(log_path, start=0.0, end=float("inf")):
    counts = collections.Counter()
    with open(log_path, errors="replace") as log:
        for line in log:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("type") == "access" and entry.get("reason") and start <= entry["ts"] <= end:
                where = entry.get("authority", "?") + entry.get("path", "").split("?")[0]
                counts[(f"{entry.get('status')} {entry['reason']}", where)] += 1
    return counts


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--run", required=True)
    parser.add_argument("--report", required=True)
    parser.add_argument("--secret", action="append", default=[])
    parser.add_argument("--placeholder", required=True)
    parser.add_argument("--versions", required=True)
    args = parser.parse_args()
    secrets = dict(s.split("=", 1) for s in args.secret)
    with open(args.versions) as lock:
        packages = json.load(lock)["packages"]
    with open(os.path.join(args.run, "vendors.jsonl")) as f:
        records = [json.loads(line) for line in f]
    with open(os.path.join(args.run, "runs.jsonl")) as f:
        runs = [json.loads(line) for line in f]

    rows, failed = [], 0
    for run in runs:
        base = os.path.join(args.run, "outputs", run["name"])
        outputs = open(base + ".out", errors="replace").read() + open(base + ".err", errors="replace").read()
        if run["name"] == "doctor":
            problems, notes = judge_doctor(run, open(base + ".out", errors="replace").read())
            prefix, mine = "doctor", records[run["first"]:run["last"]]
        else:
            prefix, mine, problems, notes = judge(run, records, outputs, secrets, args.placeholder)
        refused = refusals(os.path.join(args.run, "airlock.log"), run["start"], run["end"])
        version = packages.get("node_modules/" + PACKAGE.get(prefix, ""), {}).get("version", "-")
        seen = sorted({f"{host_of(r)}{r['path'].split('?')[0]}" + (" (ws)" if r["websocket"] else "")
                       for r in mine})
        failed += bool(problems)
        rows.append((run["name"], version, "pass" if not problems else "FAIL",
                     "; ".join(problems + notes) or "-", ", ".join(seen),
                     ", ".join(f"{kind} {where} x{n}" for (kind, where), n in sorted(refused.items())) or "-"))
        print(f"compat: {run['name']} {version}: {'pass' if not problems else 'FAIL: ' + '; '.join(problems)}")

    with open(args.report, "w") as report:
        report.write("# make compat\n\nEach client ran with `env -i`, `. airlock.env` and a placeholder key, "
                     "in a network namespace holding only loopback.\n\n")
        report.write("| client | version | result | problems and notes | requests that reached the vendor "
                     "| refused by airlock |\n")
        report.write("|---|---|---|---|---|---|\n")
        for row in rows:
            report.write("| " + " | ".join(row) + " |\n")
    print(f"compat: {len(rows) - failed} of {len(rows)} clients passed; report in {args.report}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
