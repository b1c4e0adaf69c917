"""A simulated Class 1 fax modem on a pty, with an answering fax machine behind it.

Used by the tests and by ``faxctl modem simulate``; see ``pty_modem.py``.
"""

from drivers.simulator.pty_modem import SimulatedModem, run_simulator
from drivers.simulator.remote import Answer, ReceivedCall, RemoteProfile

__all__ = ["Answer", "ReceivedCall", "RemoteProfile", "SimulatedModem", "run_simulator"]
