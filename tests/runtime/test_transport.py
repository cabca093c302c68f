"""The worker's message stream: whole messages only, frames told apart without unpickling."""

from __future__ import annotations

import multiprocessing as mp
import os
import pickle
import time

from trafficai.runtime import commands as c
from trafficai.runtime import messages as m
from trafficai.runtime.transport import HEADER, KIND_FRAME, KIND_MESSAGE, MessageReader, MessageStream


def test_message_reader_returns_only_whole_messages() -> None:
    reader_end, writer_end = mp.Pipe(duplex=False)
    reader = MessageReader(reader_end)
    data = pickle.dumps(c.Play())
    message = HEADER.pack(len(data), KIND_FRAME, 7) + data
    os.write(writer_end.fileno(), message[:5])
    assert reader.read() == []
    os.write(writer_end.fileno(), message[5:] + message)
    assert reader.read() == [(KIND_FRAME, 7, data), (KIND_FRAME, 7, data)]
    writer_end.close()
    assert reader.read() == [] and reader.eof
    reader.close()


def _read_until(reader: MessageReader, count: int) -> list[tuple[int, int, bytes]]:
    out: list[tuple[int, int, bytes]] = []
    deadline = time.monotonic() + 5.0
    while len(out) < count and time.monotonic() < deadline:
        out += reader.read()
        time.sleep(0.001)
    return out


def test_the_stream_delivers_messages_in_order_and_marks_frames_with_their_seq() -> None:
    reader_end, writer_end = mp.Pipe(duplex=False)
    reader = MessageReader(reader_end)
    stream = MessageStream(writer_end)
    # the stream never looks into a frame's snapshot: a stand-in keeps this test free of fixtures
    frame = m.SimFrame(0, 5, ("snapshot",), (), False, 1.0, 1.0, 1.0)  # type: ignore[arg-type]
    sent = [m.Refused("Override", "no"), frame, m.Closed()]
    for message in sent:
        stream.put(message)
    stream.close()
    got = _read_until(reader, 3)
    assert [(kind, seq) for kind, seq, _ in got] == [(KIND_MESSAGE, 0), (KIND_FRAME, 5), (KIND_MESSAGE, 0)]
    received = [pickle.loads(data) for _, _, data in got]
    assert received[0] == sent[0] and isinstance(received[1], m.SimFrame) and received[2] == m.Closed()
    assert received[1].snapshot == ("snapshot",)
    reader.close()
