"""``faxctl modem ...``: a simulated fax modem on a pseudo-terminal, and a probe of a real
(or simulated) one. Neither reads the configuration.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from faxd.cli_support import CliError


def cmd_modem_simulate(args: argparse.Namespace) -> int:
    from drivers.simulator import KIND_MODEM, SimulatorProfileError, load_profiles, load_quirks, run_simulator

    try:
        profiles = load_profiles(Path(args.profiles)) if args.profiles else None
        quirks = load_quirks(Path(args.profiles)) if args.profiles else KIND_MODEM
    except (OSError, SimulatorProfileError) as exc:
        raise CliError(f"cannot use the profiles file: {exc}") from None
    run_simulator(
        link=Path(args.link),
        csi=args.csi,
        out_dir=Path(args.out),
        speed=args.speed,
        profiles=profiles,
        fax_class=args.fax_class,
        quirks=quirks,
    )
    return 0


def cmd_modem_probe(args: argparse.Namespace) -> int:
    from drivers.port import DriverError
    from drivers.probe import probe_modem, profile_lookup

    try:
        report = probe_modem(args.device, speed=args.speed, profile_for=profile_lookup(args.profile_dir))
    except DriverError as exc:
        raise CliError(f"cannot probe {args.device}: {exc}") from None
    print(report.to_json() if args.json else report.text())
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``faxctl modem simulate`` and ``faxctl modem probe``; each parser's ``func`` takes (args)."""
    modem = sub.add_parser("modem", help="modem tools").add_subparsers(dest="modem_command", required=True)
    p = modem.add_parser("simulate", help="run a simulated fax modem (Class 1, 2, 2.0 or 2.1) on a pseudo-terminal")
    p.add_argument("--link", required=True, help="symlink to create pointing at the pty")
    p.add_argument("--csi", default="+46 40 628 04 99", help="the remote fax machine's station id")
    p.add_argument("--out", default="received", help="folder for received pages and call summaries")
    p.add_argument("--speed", type=float, default=1.0, help="1 = real line pace, 0 = no line delays")
    p.add_argument("--profiles", help="TOML/JSON file: the remote fax machine and its faults per dialled number")
    p.add_argument(
        "--class",
        dest="fax_class",
        choices=("1", "2", "2.0", "2.1"),
        default="1",
        help="the modem's fax class (personality); default 1",
    )
    p.set_defaults(func=cmd_modem_simulate)
    p = modem.add_parser("probe", help="ask a modem what it is and which fax classes it speaks")
    p.add_argument("device", help="serial device (or a simulated modem's link)")
    p.add_argument("--speed", type=int, default=115200, help="serial speed (default 115200)")
    p.add_argument("--json", action="store_true", help="the report as JSON")
    p.add_argument("--profile-dir", type=Path, help="the site's modem profiles, tried before the shipped ones")
    p.set_defaults(func=cmd_modem_probe)
