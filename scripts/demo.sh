#!/usr/bin/env bash
# `make run`: the daemon on the example configuration (simulated Class 1 modem on a pty,
# spool and SQLite under ./var/), the sample forms dropped into the spool, the
# confirmation log printed once they are through. The daemon then keeps running.
set -euo pipefail
cd "$(dirname "$0")/.."
export FAXD_CONFIG=examples/faxd.toml
bin=.venv/bin
mkdir -p var
# The log's key pair is made once, on purpose (a missing key is an error, never a new key).
[ -f var/keys/audit-signing.key ] || "$bin/faxctl" audit keygen
"$bin/faxd" 2> >(tee -a var/faxd.log >&2) &
daemon=$!
trap 'kill -TERM $daemon 2>/dev/null; wait $daemon 2>/dev/null' EXIT INT TERM

"$bin/python" - <<'PY'
import json, subprocess, sys, time
from pathlib import Path
deadline = time.monotonic() + 60
def status():
    out = subprocess.run([".venv/bin/faxctl", "status", "--json"], capture_output=True, text=True)
    return json.loads(out.stdout) if out.returncode == 0 and out.stdout.strip() else {}
while not any(m["state"] == "ready" for m in status().get("modems", [])):
    if time.monotonic() > deadline:
        sys.exit("demo: the daemon did not get its modem ready within 60 s; see var/faxd.log")
    time.sleep(0.2)
# The backup routine is switched on by a decision: the demo declares the outage first
# (without one, outage.when_not_declared = "hold" keeps the documents and raises an alarm).
periods = json.loads(subprocess.run([".venv/bin/faxctl", "outage", "list", "--json"], capture_output=True,
                                    text=True, check=True).stdout)
if not periods or not periods[-1]["open"]:
    subprocess.run([".venv/bin/faxctl", "outage", "start", "--reason", "demo: Mina planer is down (make run)"],
                   check=True)
for pdf in sorted(Path("examples/forms").glob("*.pdf")):
    cmd = [".venv/bin/faxctl", "send", str(pdf)]
    sidecar = pdf.with_name(pdf.name + ".json")
    if sidecar.exists():
        cmd += ["--meta", str(sidecar)]
    subprocess.run(cmd, check=True)
print("demo: sample forms dropped; waiting for the faxes to go through the simulated modem ...", flush=True)
deadline = time.monotonic() + 240
while True:
    s = status()
    if s.get("jobs") and not s.get("open_jobs"):
        break
    if time.monotonic() > deadline:
        sys.exit("demo: jobs still open after 240 s; see `faxctl status`")
    time.sleep(0.5)
PY
"$bin/faxctl" log
"$bin/faxctl" status
cat <<EOT

The daemon keeps running (pid $daemon). In another terminal:
  export FAXD_CONFIG=$PWD/examples/faxd.toml
  .venv/bin/faxctl send examples/forms/<form>.pdf     # or drop a PDF into var/spool/incoming/
  .venv/bin/faxctl log                                 # the confirmation log (--json, --verify)
Received pages of the simulated remote: var/state/simulator/sim0/
Stop with Ctrl-C.
EOT
wait $daemon
