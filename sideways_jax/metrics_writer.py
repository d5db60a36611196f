"""Where a run's metrics go: `metrics.jsonl` (one record per line) and TensorBoard events.

    log = MetricsLog('DIR/metrics.jsonl')
    log.truncate_after(step)      # resuming: drop records the checkpoint does not cover
    log.write({'step': 1, 'split': 'train', 'loss': 2.0})
    tb = EventWriter('DIR')       # DIR/events.out.tfevents.*; `tensorboard --logdir DIR`
    tb.scalars(1, {'train/loss': 2.0})

`EventWriter` is written here rather than taken from a library: TensorFlow's
`tf.summary` (and clu / flax's writers built on it) would pull TensorFlow (~1.5 GB) into the
core install, and tensorboardX ships protobuf modules generated for one protobuf range. An
event file is TFRecord framing (a length, CRC32C checksums) around `Event` protobufs with
three fields, so ~60 lines below write it; tests read it back with tensorboard's own
EventAccumulator.
"""

import json
import os
import socket
import struct
import time


# --- metrics.jsonl ---------------------------------------------------------------------

class MetricsLog:
  """Appends one JSON object per line; `truncate_after` keeps each step once on resume."""

  def __init__(self, path: str):
    self.path = path
    self._file = None

  def records(self):
    """The records in the file (a half-written last line, from a kill, is skipped)."""
    if not os.path.exists(self.path):
      return []
    out = []
    with open(self.path) as f:
      for line in f:
        try:
          out.append(json.loads(line))
        except json.JSONDecodeError:
          continue
    return out

  def truncate_after(self, step: int):
    """Keeps only records with `step <= step` (those a checkpoint at `step` covers).

    The file is rewritten to a temporary file and renamed over the old one, so a kill
    during the rewrite leaves either the old or the new file, never half of one.
    """
    kept = [r for r in self.records() if isinstance(r, dict) and r.get('step', 0) <= step]
    tmp = self.path + '.tmp'
    with open(tmp, 'w') as f:
      for r in kept:
        f.write(json.dumps(r) + '\n')
      f.flush()
      os.fsync(f.fileno())
    os.replace(tmp, self.path)

  def write(self, record: dict):
    if self._file is None:
      self._file = open(self.path, 'a')
    self._file.write(json.dumps(record) + '\n')
    self._file.flush()

  def sync(self):
    """Flushes to disk: called before a checkpoint, so it covers every record written."""
    if self._file is not None:
      self._file.flush()
      os.fsync(self._file.fileno())

  def close(self):
    if self._file is not None:
      self._file.close()
      self._file = None


# --- TensorBoard event files -------------------------------------------------------------

def _crc32c_table():
  table = []
  for i in range(256):
    crc = i
    for _ in range(8):
      crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    table.append(crc)
  return table


_CRC_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
  """CRC-32C (Castagnoli), the checksum TFRecord framing uses."""
  crc = 0xFFFFFFFF
  for byte in data:
    crc = _CRC_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
  return crc ^ 0xFFFFFFFF


def _masked_crc(data: bytes) -> int:
  crc = crc32c(data)
  return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _varint(n: int) -> bytes:
  n &= (1 << 64) - 1  # int64 fields encode negatives as 10-byte two's complement
  out = bytearray()
  while True:
    bits, n = n & 0x7F, n >> 7
    out.append(bits | (0x80 if n else 0))
    if not n:
      return bytes(out)


def _field(number: int, wire_type: int, payload: bytes) -> bytes:
  return _varint(number << 3 | wire_type) + payload


def _bytes_field(number: int, data: bytes) -> bytes:
  return _field(number, 2, _varint(len(data)) + data)


def _event(step: int, **what) -> bytes:
  """An `Event` proto: wall_time (1), step (2), and file_version (3), summary (5) or
  session_log (7)."""
  out = _field(1, 1, struct.pack('<d', time.time())) + _field(2, 0, _varint(step))
  if 'file_version' in what:
    out += _bytes_field(3, what['file_version'].encode())
  if 'scalars' in what:  # Summary{repeated Value value = 1}, Value{tag = 1, simple_value = 2}
    summary = b''.join(
        _bytes_field(1, _bytes_field(1, tag.encode()) + _field(2, 5, struct.pack('<f', v)))
        for tag, v in what['scalars'].items())
    out += _bytes_field(5, summary)
  if 'session_start' in what:  # SessionLog{status = 1}: START = 1
    out += _bytes_field(7, _field(1, 0, _varint(1)))
  return out


class EventWriter:
  """Writes scalar summaries to a new `events.out.tfevents.*` file in `logdir`."""

  def __init__(self, logdir: str):
    name = (f'events.out.tfevents.{int(time.time())}.{socket.gethostname()}.'
            f'{os.getpid()}.{id(self) % 1000}')
    self.path = os.path.join(logdir, name)
    self._file = open(self.path, 'ab')
    self._record(_event(0, file_version='brain.Event:2'))

  def _record(self, data: bytes):
    header = struct.pack('<Q', len(data))
    self._file.write(header + struct.pack('<I', _masked_crc(header)) + data +
                     struct.pack('<I', _masked_crc(data)))
    self._file.flush()

  def restart(self, step: int):
    """Marks a resume at `step`: TensorBoard drops events of earlier files with
    step >= `step` (they belong to the part of the run the checkpoint lost)."""
    self._record(_event(step, session_start=True))

  def scalars(self, step: int, values: dict):
    """One event holding `tag -> float` (non-numbers are skipped)."""
    values = {k: float(v) for k, v in values.items()
              if isinstance(v, (int, float)) and not isinstance(v, bool)}
    if values:
      self._record(_event(step, scalars=values))

  def close(self):
    self._file.close()
