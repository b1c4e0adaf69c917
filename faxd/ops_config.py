"""The operations part of the configuration: journal, SNMP, metrics, alarms, drill.

Kept apart from ``faxd/config.py`` so that file stays about sending faxes; ``read_ops``
is called by its reader and shares its error messages (file and key named). All of it
is optional: without ``[snmp]``, ``[metrics]`` or ``[drill]`` nothing listens and no
drill runs.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from faxd.config import _Reader

AUTH_PROTOCOLS = ("SHA-224", "SHA-256", "SHA-384", "SHA-512")
PRIV_PROTOCOLS = ("AES-128", "AES-192", "AES-256")
# IANA Private Enterprise Number 32473 is reserved for documentation (RFC 5612): a
# placeholder until the operator's organisation puts its own number in FAXD-MIB.
ENTERPRISE = 32473


@dataclass(frozen=True, slots=True)
class Manager:
    """Where notifications go."""

    address: str
    port: int = 162
    version: str = "v3"  # or "v2c" (needs snmp.community)
    # "trap" (sent once) or "inform" (acknowledged: sent again until the manager answers,
    # every timeout_seconds, at most retries more times; unanswered is logged).
    notify: str = "trap"
    timeout_seconds: float = 5.0
    retries: int = 3


@dataclass(frozen=True, slots=True)
class SnmpConfig:
    address: str = "127.0.0.1"
    port: int = 1161  # an unprivileged port: the unit gives the service no capabilities
    user: str = "faxd"
    auth_protocol: str = "SHA-256"
    auth_key: str = ""
    priv_protocol: str = "AES-128"
    priv_key: str = ""
    engine_id: bytes = b""
    community: str | None = None  # SNMPv2c read access, only when configured
    managers: tuple[Manager, ...] = ()


@dataclass(frozen=True, slots=True)
class MetricsConfig:
    address: str = "127.0.0.1"
    port: int = 9464


@dataclass(frozen=True, slots=True)
class DrillConfig:
    recipient: str  # a unit id in the fax directory: the region's own test fax
    interval_hours: float = 168.0  # once a week; 0: only on `faxctl drill`


@dataclass(frozen=True, slots=True)
class OpsConfig:
    journal: str = "auto"  # "auto" (native protocol when systemd gave us the journal), "on", "off"
    snmp: SnmpConfig | None = None
    metrics: MetricsConfig | None = None
    drill: DrillConfig | None = None
    backlog_threshold: int = 50  # queued jobs above this raise alarm.backlog


def default_engine_id() -> bytes:
    """RFC 3411 engine id: enterprise (placeholder), format 4 (text), ``faxd@host``."""
    text = f"faxd@{socket.gethostname()}".encode()[:27]
    return bytes([0x80, 0x00, ENTERPRISE >> 8, ENTERPRISE & 0xFF, 0x04]) + text


def _address(reader: _Reader, raw: Mapping[str, Any], key: str, default: str) -> str:
    value = reader.string(raw, key, default)
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise reader.fail(key, f"must be an IP address such as 127.0.0.1, not {value!r}") from None
    return value


def _port(reader: _Reader, raw: Mapping[str, Any], key: str, default: int) -> int:
    port = int(reader.number(raw, key, default, minimum=0))
    if port > 65535:
        raise reader.fail(key, f"must be a port number up to 65535, not {port}")
    return port


def _snmp(reader: _Reader, raw: Mapping[str, Any]) -> SnmpConfig | None:
    if not raw or not reader.flag(raw, "snmp.enabled", True):
        return None
    auth = reader.string(raw, "snmp.auth_protocol", "SHA-256").upper()
    if auth not in AUTH_PROTOCOLS:
        raise reader.fail("snmp.auth_protocol", f"must be one of {', '.join(AUTH_PROTOCOLS)}, not {auth!r}")
    priv = reader.string(raw, "snmp.priv_protocol", "AES-128").upper()
    if priv not in PRIV_PROTOCOLS:
        raise reader.fail("snmp.priv_protocol", f"must be one of {', '.join(PRIV_PROTOCOLS)}, not {priv!r}")
    keys = {}
    for name in ("auth_key", "priv_key"):
        value = reader.string(raw, f"snmp.{name}")
        if len(value) < 8:
            raise reader.fail(f"snmp.{name}", "must be at least 8 characters (RFC 3414)")
        keys[name] = value
    engine_hex = raw.get("engine_id")
    try:
        engine_id = bytes.fromhex(str(engine_hex).removeprefix("0x")) if engine_hex else default_engine_id()
    except ValueError:
        raise reader.fail("snmp.engine_id", "must be hexadecimal, e.g. 80007ed90466617864") from None
    if not 5 <= len(engine_id) <= 32:
        raise reader.fail("snmp.engine_id", "must be 5 to 32 bytes (RFC 3411)")
    community = raw.get("community")
    if community is not None and (not isinstance(community, str) or not community):
        raise reader.fail("snmp.community", "must be a non-empty string")
    managers = []
    for i, m in enumerate(raw.get("manager", []) or []):
        key = f"snmp.manager.{i}"
        if not isinstance(m, dict):
            raise reader.fail(key, "must be a table")
        version = reader.string(m, f"{key}.version", "v3")
        if version not in ("v3", "v2c"):
            raise reader.fail(f"{key}.version", f"must be 'v3' or 'v2c', not {version!r}")
        if version == "v2c" and community is None:
            raise reader.fail(f"{key}.version", "v2c notifications need snmp.community")
        notify = reader.string(m, f"{key}.notify", "trap")
        if notify not in ("trap", "inform"):
            raise reader.fail(f"{key}.notify", f"must be 'trap' or 'inform', not {notify!r}")
        managers.append(
            Manager(
                address=_address(reader, m, f"{key}.address", "127.0.0.1"),
                port=_port(reader, m, f"{key}.port", 162),
                version=version,
                notify=notify,
                timeout_seconds=reader.number(m, f"{key}.timeout_seconds", 5.0, minimum=0.1),
                retries=int(reader.number(m, f"{key}.retries", 3, minimum=0)),
            )
        )
    return SnmpConfig(
        address=_address(reader, raw, "snmp.address", "127.0.0.1"),
        port=_port(reader, raw, "snmp.port", 1161),
        user=reader.string(raw, "snmp.user", "faxd"),
        auth_protocol=auth,
        auth_key=keys["auth_key"],
        priv_protocol=priv,
        priv_key=keys["priv_key"],
        engine_id=engine_id,
        community=community,
        managers=tuple(managers),
    )


def read_ops(reader: _Reader, raw: Mapping[str, Any], logging: Mapping[str, Any]) -> OpsConfig:
    """The ``[snmp]``, ``[metrics]``, ``[alarms]``, ``[drill]`` tables and ``logging.journal``."""
    journal = reader.string(logging, "logging.journal", "auto")
    if journal not in ("auto", "on", "off"):
        raise reader.fail("logging.journal", f"must be 'auto', 'on' or 'off', not {journal!r}")
    metrics_raw = reader.table(raw, "metrics", required=False)
    metrics = None
    if metrics_raw and reader.flag(metrics_raw, "metrics.enabled", True):
        metrics = MetricsConfig(
            address=_address(reader, metrics_raw, "metrics.address", "127.0.0.1"),
            port=_port(reader, metrics_raw, "metrics.port", 9464),
        )
    drill_raw = reader.table(raw, "drill", required=False)
    drill = None
    if drill_raw:
        drill = DrillConfig(
            recipient=reader.string(drill_raw, "drill.recipient"),
            interval_hours=reader.number(drill_raw, "drill.interval_hours", 168.0),
        )
    alarms = reader.table(raw, "alarms", required=False)
    return OpsConfig(
        journal=journal,
        snmp=_snmp(reader, reader.table(raw, "snmp", required=False)),
        metrics=metrics,
        drill=drill,
        backlog_threshold=int(reader.number(alarms, "alarms.backlog_threshold", 50, minimum=1)),
    )
