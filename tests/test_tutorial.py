"""docs/TUTORIAL.md runs as written: every block, in order, from an empty folder.

Each block follows a `<!-- test: KIND -->` line: `file NAME` (written to the folder),
`python` (run in one namespace), `interrupt` (run, then SIGINT after its first progress
line, as a user's Ctrl-C), `resumes` (must resume), `json` (prints one JSON line),
`fails N` (exits with status N), `skip`.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from absl.testing import absltest

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_TUTORIAL = os.path.join(_REPO, 'docs', 'TUTORIAL.md')


def blocks():
  """(kind, code) of every annotated block, in order."""
  with open(_TUTORIAL) as f:
    text = f.read()
  return re.findall(r'<!-- test: ([^>]*?) -->\s*\n```\w*\n(.*?)```', text, re.S)


class TutorialTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.dir = tempfile.mkdtemp()
    self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
    self.env = dict(os.environ, PYTHONPATH=os.pathsep.join([self.dir, _REPO]))

  def shell(self, code, **kwargs):
    code = code.replace('python ', f'{sys.executable} ')
    return subprocess.Popen(['bash', '-c', code], cwd=self.dir, env=self.env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)

  def interrupt(self, code):
    proc = self.shell(code, start_new_session=True)
    deadline = time.time() + 240
    for line in proc.stdout:
      if line.startswith('step '):
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C sends to the foreground group
        break
      self.assertLess(time.time(), deadline)
    out, err = proc.communicate(timeout=240)
    self.assertEqual(proc.returncode, 128 + signal.SIGINT, err)
    self.assertRegex(err, r'SIGINT: stopped at step \d+ with a checkpoint')
    self.assertNotIn('Traceback', err)
    return out

  def test_tutorial_runs(self):
    kinds = [kind.split()[0] for kind, _ in blocks()]
    for kind in ('file', 'python', 'interrupt', 'resumes', 'json', 'fails'):
      self.assertIn(kind, kinds)
    namespace = {}
    sys.path.insert(0, self.dir)
    self.addCleanup(sys.path.remove, self.dir)
    cwd = os.getcwd()
    self.addCleanup(os.chdir, cwd)
    os.chdir(self.dir)
    for kind, code in blocks():
      kind, *arg = kind.split()
      if kind == 'file':
        with open(os.path.join(self.dir, arg[0]), 'w') as f:
          f.write(code)
      elif kind == 'python':
        exec(code, namespace)  # pylint: disable=exec-used
      elif kind == 'interrupt':
        self.interrupt(code)
      elif kind in ('resumes', 'json', 'fails'):
        proc = self.shell(code)
        out, err = proc.communicate(timeout=300)
        self.assertEqual(proc.returncode, int(arg[0]) if kind == 'fails' else 0, err)
        lines = err.strip().splitlines()
        if kind == 'fails':
          self.assertLen(lines, 1, err)
          self.assertTrue(lines[0].startswith('error: '))
        if kind == 'resumes':
          self.assertIn('resuming from the checkpoint at step', out)
        if kind == 'json':
          record = json.loads(out.strip().splitlines()[-1])
          for key in ('step', 'split', 'loss', 'accuracy', 'clip_accuracy', 'num_clips'):
            self.assertIn(key, record)
        self.assertNotIn('Traceback', err)
      else:
        self.assertEqual(kind, 'skip')
    self.assertIn('clip_accuracy', namespace['trainer'].evaluate(
        namespace['state'].params, next(namespace['batches'])))
    with open(os.path.join(self.dir, 'runs', 'mine', 'result.json')) as f:
      self.assertEqual(json.load(f)['step'], 400)


if __name__ == '__main__':
  absltest.main()
