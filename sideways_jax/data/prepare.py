"""Prepare a local UCF101 / HMDB51 / Kinetics-600 copy once, so training never decodes a
video from its start again (the folder's layout: `sideways_jax.data.prepared`).

  python -m sideways_jax.data.prepare --dataset=ucf101 --root=/data/ucf101 \\
      --out=/data/ucf101_prepared [--short_side=128] [--format=jpeg] [--workers=2]

then train with `--config.dataset.prepared=/data/ucf101_prepared` (and no dataset.root).
Every split list found in the raw copy (UCF101 / HMDB51 folds 1-3, Kinetics train / val /
test) is recorded; a video listed by several is stored once. An interrupted command,
rerun, resumes where it stopped. A video that cannot be decoded is named, skipped and
counted; more than --max_bad_fraction of them stops the command before the records are
written. The default short side, 128, is what 112x112 clips read (112 * 8 / 7).
"""

import json
import os
import shutil
import sys
import time

import numpy as np

from sideways_jax.data import prepared as prepared_lib
from sideways_jax.data import video_io
from sideways_jax.data.errors import DataError


def list_splits(dataset, root, **layout):
  """(class names, {split name: [(video path, label)]}) of every split list in `root`."""
  from sideways_jax.data import hmdb51, kinetics, ucf101  # pylint: disable=g-import-not-at-top
  found, classes = {}, None
  if dataset in ('ucf101', 'hmdb51'):
    module = ucf101 if dataset == 'ucf101' else hmdb51
    for fold in (1, 2, 3):
      for split in ('train', 'test'):
        try:
          names, rows = module.entries(split, root=root, fold=fold, **layout)
        except DataError as err:
          if fold == 1 or 'not found' not in str(err) and 'No HMDB51' not in str(err):
            raise
          continue  # folds 2-3 may be absent (an export writes fold 1 only)
        found[f'{split}{fold}'] = rows
        classes = classes or names
  elif dataset == 'kinetics600':
    for split in ('train', 'val', 'test'):
      if not os.path.isfile(os.path.join(root, f'{split}.csv')):
        continue
      names, rows = kinetics.entries('val' if split == 'val' else split, root=root,
                                     test_split='test', classes=classes, **layout)
      found[split] = rows
      classes = classes or names
    if not found:
      raise DataError(f'no Kinetics annotation CSV (train.csv, val.csv, test.csv) in '
                      f'{root!r}: put them at <root>/<split>.csv.')
  else:
    raise DataError(f'--dataset must be one of {", ".join(prepared_lib.DATASETS)}; got '
                    f'{dataset!r} (the embedded sets need no preparing).')
  return classes, found


def _work_file(out, i, suffix):
  return os.path.join(out, prepared_lib.WORK, f'{i:07d}.{suffix}')


def _prepare_one(args):
  """Decodes video `i` into its work file (or a .bad file with the reason); returns i."""
  out, i, path, short_side, fmt, quality = args
  try:
    frames = video_io.decode_video(path, short_side=short_side, thread_type='NONE')
  except (DataError, OSError) as err:
    _write_atomic(_work_file(out, i, 'bad'), str(err).encode())
    return i, False
  blobs = prepared_lib.encode_frames(frames, fmt, quality)
  sizes = np.array([len(b) for b in blobs], np.int64)
  tmp = _work_file(out, i, 'tmp.npz')
  np.savez(tmp, data=np.frombuffer(b''.join(blobs), np.uint8), sizes=sizes,
           shape=np.array(frames.shape[1:3], np.int32))
  os.replace(tmp, _work_file(out, i, 'npz'))
  return i, True


def _write_atomic(path, data):
  with open(path + '.tmp', 'wb') as f:
    f.write(data)
  os.replace(path + '.tmp', path)


def _read_work(out, i):
  with np.load(_work_file(out, i, 'npz')) as z:
    data, sizes, shape = z['data'].tobytes(), z['sizes'], z['shape']
  ends = np.cumsum(sizes)
  return int(shape[0]), int(shape[1]), [data[e - s:e] for s, e in zip(sizes, ends)]


def _check_out(out, manifest):
  """Refuses an `out` that is finished, foreign, or started with other settings."""
  if os.path.isfile(os.path.join(out, prepared_lib.INDEX)):
    raise DataError(f'{out!r} is a finished prepared dataset already: train from it, or '
                    'give a new --out.')
  work = os.path.join(out, prepared_lib.WORK)
  manifest_path = os.path.join(work, 'manifest.json')
  if os.path.isfile(manifest_path):
    with open(manifest_path) as f:
      old = json.load(f)
    if old != manifest:
      changed = sorted(k for k in manifest if old.get(k) != manifest[k])
      raise DataError(f'{out!r} holds an interrupted prepare started with other settings '
                      f'({", ".join(changed)} differ): rerun it with the same flags, or '
                      'delete the folder to start anew.')
    return True
  if os.path.isdir(out) and os.listdir(out):
    raise DataError(f'--out={out} exists and is not empty: give a new or empty folder.')
  os.makedirs(work, exist_ok=True)
  _write_atomic(manifest_path, json.dumps(manifest).encode())
  return False


def prepare(dataset, root, out, *, short_side=128, fmt='jpeg', quality=90, workers=1,
            max_bad_fraction=0.1, log=print, **layout):
  """Prepares `dataset` from the raw copy `root` into `out` (see the module docstring).

  Returns:
    The contents of `<out>/prepared.json`.

  Raises:
    DataError: a bad layout, a foreign or finished `out`, or too many bad videos; one line
      naming the problem and the fix. Nothing under `out` is left half-written: rerunning
      the same call resumes.
  """
  if fmt not in prepared_lib.FORMATS:
    raise DataError(f'--format must be one of {", ".join(prepared_lib.FORMATS)}; got '
                    f'{fmt!r}.')
  if not isinstance(short_side, int) or short_side < 8:
    raise DataError(f'--short_side must be an integer >= 8; got {short_side!r}.')
  if not 1 <= quality <= 100:
    raise DataError(f'--quality must be 1..100; got {quality!r}.')
  classes, splits = list_splits(dataset, root, **layout)
  paths, label_of = [], {}
  for rows in splits.values():
    for path, label in rows:
      if path not in label_of:
        paths.append(path)
      label_of.setdefault(path, label)
  manifest = dict(dataset=dataset, root=os.path.abspath(root), short_side=short_side,
                  format=fmt, quality=quality if fmt == 'jpeg' else None,
                  num_videos=len(paths))
  resumed = _check_out(out, manifest)
  start = time.time()
  todo = [i for i in range(len(paths)) if not os.path.exists(_work_file(out, i, 'npz'))
          and not os.path.exists(_work_file(out, i, 'bad'))]
  log(f'{"resuming: " if resumed else ""}{len(todo)} of {len(paths)} videos to decode '
      f'({dataset}, short side {short_side}, {fmt}, {workers} worker(s))')
  jobs = [(out, i, paths[i], short_side, fmt, quality) for i in todo]
  done, last = 0, time.time()
  if workers > 1:
    import multiprocessing  # pylint: disable=g-import-not-at-top
    with multiprocessing.get_context('spawn').Pool(workers) as pool:
      for _ in pool.imap_unordered(_prepare_one, jobs, chunksize=4):
        done += 1
        last = _progress(log, done, len(todo), start, last)
  else:
    for job in jobs:
      _prepare_one(job)
      done += 1
      last = _progress(log, done, len(todo), start, last)
  decode_s = time.time() - start
  bad = {paths[i]: open(_work_file(out, i, 'bad')).read() for i in range(len(paths))
         if os.path.exists(_work_file(out, i, 'bad'))}
  if len(bad) > max_bad_fraction * len(paths):
    example = next(iter(bad.items()))
    raise DataError(f'{len(bad)} of {len(paths)} videos cannot be decoded (more than '
                    f'--max_bad_fraction={max_bad_fraction}), e.g. {example[0]} '
                    f'({example[1]}). Re-download or re-extract them, then rerun this '
                    'command (the decoded videos are kept).')
  for path, reason in list(bad.items())[:10]:
    log(f'skipped (cannot decode): {path}: {reason}')
  good = [i for i in range(len(paths)) if paths[i] not in bad]
  number = {i: n for n, i in enumerate(good)}  # video position -> its number in `videos`
  position = {p: i for i, p in enumerate(paths)}
  records = []  # per video: first record, frame count, height, width

  def videos():
    first = 0
    for i in good:
      height, width, blobs = _read_work(out, i)
      records.append([first, len(blobs), height, width])
      first += len(blobs)
      yield blobs

  tfds_dir = os.path.join(out, prepared_lib.BUILDER_NAME)
  if os.path.isdir(tfds_dir):  # records of an interrupted write: written anew
    shutil.rmtree(tfds_dir)
  write_start = time.time()
  prepared_lib.builder(out, videos).download_and_prepare()
  shutil.rmtree(os.path.join(out, 'downloads'), ignore_errors=True)
  index = dict(
      dataset=dataset, format=fmt, short_side=short_side, quality=manifest['quality'],
      class_names=classes, records=records,
      videos=[os.path.relpath(paths[i], root) for i in good],
      splits={name: [[number[position[p]], label] for p, label in rows if p not in bad]
              for name, rows in splits.items()},
      bad_videos=bad, decode_s=round(decode_s, 2),
      write_s=round(time.time() - write_start, 2),
      bytes=_folder_bytes(tfds_dir))
  _write_atomic(os.path.join(out, prepared_lib.INDEX), json.dumps(index).encode())
  shutil.rmtree(os.path.join(out, prepared_lib.WORK))
  log(f'prepared {len(good)} videos ({len(bad)} skipped) into {out}: '
      f'{index["bytes"] / 2**20:.1f} MiB, {sum(r[1] for r in records)} frames, '
      f'{time.time() - start:.1f} s')
  return index


def _folder_bytes(path):
  return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path)
             for f in files)


def _progress(log, done, total, start, last):
  now = time.time()
  if now - last < 10 and done < total:
    return last
  rate = done / max(now - start, 1e-9)
  log(f'decoded {done}/{total} videos, {rate:.3g} videos/s, ETA '
      f'{(total - done) / max(rate, 1e-9):.0f} s')
  return now


def main(argv=None):
  """The command line (see the module docstring): errors are one `error:` line, exit 2."""
  from absl import flags  # pylint: disable=g-import-not-at-top
  flags.DEFINE_enum('dataset', None, prepared_lib.DATASETS, 'The raw dataset to prepare.')
  flags.DEFINE_string('root', None, 'The raw copy (the layout docs/REAL_DATASETS.md shows).')
  flags.DEFINE_string('out', None, 'A new or empty folder (or an interrupted one, to resume).')
  flags.DEFINE_integer('short_side', 128, 'Stored frames are resized to this short side.')
  flags.DEFINE_enum('format', 'jpeg', prepared_lib.FORMATS, 'How each frame is stored.')
  flags.DEFINE_integer('quality', 90, 'JPEG quality (format jpeg).')
  flags.DEFINE_integer('workers', 1, 'Processes decoding videos at once.')
  flags.DEFINE_float('max_bad_fraction', 0.1, 'Stop if more videos than this share are bad.')
  f = flags.FLAGS
  argv = f(argv or sys.argv)
  try:
    if len(argv) > 1:
      raise DataError(f'unexpected arguments {argv[1:]}; flags are --name=value')
    for name in ('dataset', 'root', 'out'):
      if not f[name].value:
        raise DataError(f'--{name} is required (python -m sideways_jax.data.prepare '
                        '--dataset=ucf101 --root=RAW_COPY --out=NEW_FOLDER)')
    if f.workers < 1:
      raise DataError(f'--workers must be >= 1; got {f.workers}.')
    prepare(f.dataset, f.root, f.out, short_side=f.short_side, fmt=f.format,
            quality=f.quality, workers=f.workers, max_bad_fraction=f.max_bad_fraction,
            log=lambda line: print(line, flush=True))
  except (DataError, ValueError) as err:
    print(f'error: {str(err).splitlines()[0]}', file=sys.stderr)
    sys.exit(2)


if __name__ == '__main__':
  main()
