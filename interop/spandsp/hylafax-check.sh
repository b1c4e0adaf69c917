#!/usr/bin/env bash
# Manual cross-check: HylaFAX (a second foreign Class 1 host, one that does ECM and
# T.6/MMR) sends a 2-page fax through spandsp-faxmodem. Not part of the test suite:
# it needs root, the hylafax-server and efax packages, and it starts HylaFAX's faxq
# and hfaxd (on 127.0.0.1 only), stopping them by PID afterwards.
#
#   sudo interop/spandsp/hylafax-check.sh [peer options, e.g. --no-ecm]
#
# Prints the peer's call record. Exits non-zero if the fax did not arrive as 2 pages with
# completion code 0.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" -eq 0 ] || { echo "run as root" >&2; exit 2; }
for t in faxq hfaxd faxmodem sendfax efix; do
    command -v "$t" >/dev/null || [ -x "/usr/sbin/$t" ] || { echo "missing $t (apt-get install hylafax-server efax)" >&2; exit 2; }
done
make -s -C "$here"

work=$(mktemp -d)
dev=ttyFAXSIM$$
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -f "/var/spool/hylafax/etc/config.$dev" "/dev/$dev"
}
trap cleanup EXIT

"$here/spandsp-faxmodem" --link "/dev/$dev" --out "$work/calls" --trace "$@" >"$work/peer.out" 2>"$work/peer.log" &
pids+=($!)
for _ in $(seq 50); do [ -s "$work/peer.out" ] && break; sleep 0.1; done
chmod 666 "$(cat "$work/peer.out")"     # faxsend runs as uucp

# Debian's init script normally mirrors /etc/hylafax into the spool.
cp -a /etc/hylafax/. /var/spool/hylafax/etc/
cat >"/var/spool/hylafax/etc/config.$dev" <<'EOF'
CountryCode:		46
AreaCode:		40
FAXNumber:		+46.40.6280001
LongDistancePrefix:	0
InternationalPrefix:	00
DialStringRules:	etc/dialrules
LocalIdentifier:	"+46 40 628 00 01"
ModemType:		Class1
ModemReadyCmds:		ATH0
Class1ECMSupport:	yes
Class1TMConnectDelay:	400
EOF
chown uucp:uucp "/var/spool/hylafax/etc/config.$dev"

printf 'Page one of the faxd HylaFAX cross-check\n' >"$work/p1.txt"
printf 'Page two of the faxd HylaFAX cross-check\n\n\nGoodbye\n' >"$work/p2.txt"
efix -i text -o tiffg3 "$work/p1.txt" >"$work/p1.tif" 2>/dev/null
efix -i text -o tiffg3 "$work/p2.txt" >"$work/p2.tif" 2>/dev/null

/usr/sbin/faxq
pids+=("$(pgrep -nx faxq)")
/usr/sbin/hfaxd -i 4559 -l 127.0.0.1      # daemonizes itself
sleep 0.5
pids+=("$(pgrep -nx hfaxd)")
/usr/sbin/faxmodem "$dev"
sendfax -h localhost -n -d 5550100 "$work/p1.tif" "$work/p2.tif"

for _ in $(seq 600); do [ -e "$work/calls/call-0001.json" ] && break; sleep 0.1; done
cat "$work/calls/call-0001.json" || { tail -50 "$work/peer.log"; exit 1; }
python3 - "$work/calls/call-0001.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
ok = r["pages"] == 2 and r["completion_code"] == 0
print("hylafax-check:", "PASS" if ok else "FAIL", r["bit_rate"], "ECM" if r["ecm"] else "no ECM", r["compression"])
sys.exit(0 if ok else 1)
EOF
