"""Building blocks for driving the T.30 sender engine by hand in tests: what the remote
says (identification, replies) and what to read off the engine's actions."""

from __future__ import annotations

from collections.abc import Sequence

from drivers.t30.events import Disconnect, FramesReceived, SendFrames
from drivers.t30.frames import FCF, DISFrame, Frame, IdentityFrame

OUR_TSI = "+46 40 628 04 00"
REMOTE_CSI = "040 628 04 99"


def identification(csi: str | None = REMOTE_CSI, **dis: object) -> FramesReceived:
    """The answering station's CSI (unless None) and DIS with the given capabilities."""
    frames: list[Frame] = []
    if csi is not None:
        frames.append(IdentityFrame(fcf=FCF.CSI, final=False, identity=csi))
    frames.append(DISFrame(**dis))  # type: ignore[arg-type]
    return FramesReceived(tuple(frames))


def reply(frame: Frame | FCF) -> FramesReceived:
    """One response frame from the remote."""
    return FramesReceived((frame if isinstance(frame, Frame) else Frame(fcf=frame),))


def sent_fcfs(actions: Sequence[object]) -> list[FCF]:
    """The FCFs of every frame the actions send, in order."""
    return [frame.fcf for action in actions if isinstance(action, SendFrames) for frame in action.frames]


def final_action(actions: Sequence[object]) -> Disconnect:
    """The Disconnect that must end ``actions``."""
    final = actions[-1]
    assert isinstance(final, Disconnect), actions
    return final
