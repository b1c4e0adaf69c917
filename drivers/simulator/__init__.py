"""A simulated Class 1 fax modem on a pty, with an answering fax machine behind it.

Used by the tests and by ``faxctl modem simulate``; see ``pty_modem.py``. Who answers a
number, and the faults it plays, is a ``RemoteProfile``: ``profiles.py`` documents every
fault and the profile file format that ``load_profiles`` reads; how the modem itself
misbehaves (a small transmit buffer, flow control, no +FRS, a late CONNECT) is a
``ModemQuirks`` (``quirks.py``), the file's ``[modem]`` table (``load_quirks``).
"""

from drivers.simulator.profiles import Answer, RemoteProfile, SimulatorProfileError, load_profiles, load_quirks
from drivers.simulator.pty_modem import SimulatedModem, run_simulator
from drivers.simulator.quirks import KIND as KIND_MODEM
from drivers.simulator.quirks import FlowControl, ModemQuirks
from drivers.simulator.remote import ReceivedCall

__all__ = [
    "KIND_MODEM",
    "Answer",
    "FlowControl",
    "ModemQuirks",
    "ReceivedCall",
    "RemoteProfile",
    "SimulatedModem",
    "SimulatorProfileError",
    "load_profiles",
    "load_quirks",
    "run_simulator",
]
