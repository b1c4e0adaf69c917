"""A simulated Class 1 fax modem on a pty, with an answering fax machine behind it.

Used by the tests and by ``faxctl modem simulate``; see ``pty_modem.py``. Who answers a
number, and the faults it plays, is a ``RemoteProfile``: ``profiles.py`` documents every
fault and the profile file format that ``load_profiles`` reads.
"""

from drivers.simulator.profiles import Answer, ProfileError, RemoteProfile, load_profiles
from drivers.simulator.pty_modem import SimulatedModem, run_simulator
from drivers.simulator.remote import ReceivedCall

__all__ = [
    "Answer",
    "ProfileError",
    "ReceivedCall",
    "RemoteProfile",
    "SimulatedModem",
    "load_profiles",
    "run_simulator",
]
