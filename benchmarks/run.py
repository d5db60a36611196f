"""Runs the benchmark suites: `python -m benchmarks.run [--quick] [--only NAME,...]`.

Writes `benchmarks/results.json` (records {name, value, unit, config, device, commit,
command}, CONTRACTS.md) and a markdown table in `docs/BENCHMARKS.md`. Records of suites
not run this time are kept from the previous results file.
"""

import importlib
import json
import os
import platform
import subprocess
import sys

from absl import app
from absl import flags

_QUICK = flags.DEFINE_bool('quick', False, 'Shorter runs (fewer frames / repeats).')
_ONLY = flags.DEFINE_list('only', [], 'Suite names to run (default: all).')

SUITE_MODULES = ('benchmarks.placement', 'benchmarks.learning', 'benchmarks.engine', 'benchmarks.conv_in_scan', 'benchmarks.step_cost', 'benchmarks.data_synthetic', 'benchmarks.data_decode', 'benchmarks.data_prepared', 'benchmarks.stream_memory', 'benchmarks.parallel', 'benchmarks.accelerator')
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(_ROOT, 'benchmarks', 'results.json')
TABLE = os.path.join(_ROOT, 'docs', 'BENCHMARKS.md')


def all_suites():
  suites = {}
  for name in SUITE_MODULES:
    try:
      module = importlib.import_module(name)
    except ImportError as err:
      print(f'skipping {name}: {err}', file=sys.stderr)
      continue
    suites.update(module.SUITES)
  return suites


def _device():
  import jax  # pylint: disable=g-import-not-at-top
  dev = jax.devices()[0]
  return f'{dev.platform}:{dev.device_kind} ({os.cpu_count()} cores, {platform.machine()})'


def _commit():
  try:
    return subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=_ROOT,
                          capture_output=True, text=True, check=True).stdout.strip()
  except (OSError, subprocess.CalledProcessError):
    return 'unknown'


def write_table(records):
  lines = ['# Benchmarks', '',
           'Written by `python -m benchmarks.run` (re-measure with the command in each row).',
           '', '| name | value | unit | device | commit | config | command |',
           '|---|---|---|---|---|---|---|']
  for r in records:
    config = ', '.join(f'{k}={v}' for k, v in r['config'].items())
    lines.append(f"| {r['name']} | {r['value']:.4g} | {r['unit']} | {r['device']} | "
                 f"{r['commit']} | {config} | `{r['command']}` |")
  os.makedirs(os.path.dirname(TABLE), exist_ok=True)
  with open(TABLE, 'w') as f:
    f.write('\n'.join(lines) + '\n')


def main(argv):
  del argv
  import jax  # pylint: disable=g-import-not-at-top
  # Compile times must be cold: a persistent-cache hit made compile_ratio_T512_T16 read 0.16.
  jax.config.update('jax_enable_compilation_cache', False)
  suites = all_suites()
  unknown = set(_ONLY.value) - set(suites)
  if unknown:
    raise app.UsageError(f'Unknown suites {sorted(unknown)}; known: {sorted(suites)}.')
  chosen = _ONLY.value or list(suites)
  device, commit = _device(), _commit()
  records = []
  for name in chosen:
    command = f'python -m benchmarks.run --only {name}' + (' --quick' if _QUICK.value else '')
    for record in suites[name](_QUICK.value):
      record.update(device=device, commit=commit, command=command)
      records.append(record)
      print(json.dumps(record), flush=True)
  previous = []
  if os.path.exists(RESULTS):
    with open(RESULTS) as f:
      previous = json.load(f)
  names = {r['name'] for r in records}
  merged = [r for r in previous if r['name'] not in names] + records
  with open(RESULTS, 'w') as f:
    json.dump(merged, f, indent=1)
  write_table(merged)


if __name__ == '__main__':
  app.run(main)
