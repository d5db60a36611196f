"""The errors and warnings of bad dataset input: each names the file and says how to fix it."""

import os


class DataError(ValueError):
  """Bad dataset input: the message names the file and says how to fix it."""


class AnnotationError(DataError):
  """A malformed annotation / split file (the message has the file name and line)."""


class BadVideoWarning(UserWarning):
  """A video could not be read and was skipped (a valid one is substituted)."""


class ShortVideoWarning(UserWarning):
  """A video has fewer frames than a clip spans: its clips loop it (or repeat its last
  frame, `pad_mode='pad'`). Said once per video."""


def annotation_error(path, lineno, line, why):
  """An AnnotationError reported as `path:lineno`, with the line and the expected form."""
  return AnnotationError(
      f'{path}:{lineno}: {why} (line: {line.rstrip()!r}). Fix or delete this '
      'line, or re-download the official annotation files.')


def require_dir(path, what, fix):
  """Raises DataError naming `path` when the directory is missing."""
  if not os.path.isdir(path):
    raise DataError(f'{what} not found: {path!r}. {fix}')


def require_file(path, what, fix):
  """Raises DataError naming `path` when the file is missing."""
  if not os.path.isfile(path):
    raise DataError(f'{what} not found: {path!r}. {fix}')
