#!/usr/bin/env bash
# Installs what faxd needs on a fresh Debian machine: the Debian tools the tests and
# benchmarks use, then a virtual environment with faxd and its Python packages.
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

# libtiff-tools: fax2tiff/tiffcp check our T.4 coding; libspandsp-dev, libtiff-dev,
# pkg-config: build the SpanDSP reference fax peer (interop/spandsp); efax: an
# independent Class 1 sender that proves that peer works; ghostscript: the reference
# converter the benchmarks compare against; mgetty-fax: sendfax, an independent Class 2 /
# 2.0 host that proves the simulator's Class 2 personalities (efax -o2/-o0 is the other).
# systemd (systemd-analyze, -sysusers, -tmpfiles, journald), snmp, snmptrapd, smitools
# (and snmp-mibs-downloader, below): the operations tests check the unit, the journal fields, the SNMP
# agent, its traps and FAXD-MIB with them. chromium, poppler-utils: the audit report's
# tests open the HTML in headless Chromium and rasterise the PDF with pdftoppm; pdfinfo
# reads the follow-up package as an independent PDF reader. systemd-journal-remote: the
# verification test writes a real journal file of audit.checkpoint events with it, which
# `faxctl audit verify` reads back through journalctl.
# tesseract-ocr, tesseract-ocr-swe: an independent OCR engine reads the cover sheet back
# to show it is legible at fine.
# One package a line, so that changes to this list merge cleanly.
debian_packages=(
    libtiff-tools
    libspandsp-dev
    libtiff-dev
    pkg-config
    efax
    ghostscript
    mgetty-fax
    systemd
    snmp
    snmptrapd
    smitools
    chromium
    poppler-utils
    tesseract-ocr
    tesseract-ocr-swe
    systemd-journal-remote
)
missing=()
for p in "${debian_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "setup: installing Debian packages: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# snmp-mibs-downloader: the IETF modules FAXD-MIB imports (SNMPv2-SMI, -TC, -CONF), for
# smilint and snmptranslate in the MIB test. Debian has them only in non-free (the RFCs'
# text may not be changed), in this package, which carries the RFCs and extracts the
# modules offline into /var/lib/mibs/ietf when installed (download-mibs: no network).
# non-free is enabled for this one package: the pin keeps every other non-free package out.
if ! dpkg-query -W -f='${Status}' snmp-mibs-downloader 2>/dev/null | grep -q "install ok installed"; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
    echo "setup: installing snmp-mibs-downloader from Debian non-free (pinned to that package)"
    printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: %s\nComponents: non-free\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        "$codename" | $sudo tee /etc/apt/sources.list.d/faxd-non-free.sources >/dev/null
    printf 'Package: *\nPin: release o=Debian,c=non-free\nPin-Priority: -1\n\nPackage: snmp-mibs-downloader\nPin: release o=Debian,c=non-free\nPin-Priority: 500\n' \
        | $sudo tee /etc/apt/preferences.d/faxd-non-free >/dev/null
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq snmp-mibs-downloader >/dev/null
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv"
    "$python" -m venv .venv
fi
stamp=.venv/.faxd-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "setup: installing faxd and its Python packages into .venv"
    .venv/bin/pip install -q --upgrade pip
    .venv/bin/pip install -q -e '.[test]'
    touch "$stamp"
fi

make -s -C interop/spandsp
