"""The one reader of UCF101's and HMDB51's split files: lines -> (relative video path, label).

Both sets describe their splits in small whitespace-separated text files, one video per
line. `read_split` reads any such file with a per-format line parser, so both formats share
one set of rules: blank lines are skipped, an empty file is an error, and a malformed line
is reported as `file:line` with the line itself and the expected form.
"""

from sideways_jax.data.errors import AnnotationError, annotation_error, require_file


class BadLine(Exception):
  """Raised by a line parser: the line is malformed; the message says what was expected."""


def read_rows(path, *, what, fix):
  """[(line number, whitespace-split fields, line)] of the non-blank lines of `path`.

  Raises:
    DataError: naming `what` and `fix` if the file is missing.
    AnnotationError: if it has no non-blank line.
  """
  require_file(path, what, fix)
  with open(path) as f:
    rows = [(n, line.split(), line) for n, line in enumerate(f, 1) if line.strip()]
  if not rows:
    raise AnnotationError(f'{path}: empty {what}. {fix}')
  return rows


def read_split(path, parse, *, what, fix):
  """A split file -> [(relative video path, label)], in file order.

  Args:
    path: the file.
    parse: fields -> (relative video path, label), or None for a video this split does not
      use; raises `BadLine(why)` for a malformed line.
    what, fix: name the file's role and say how to get a good one, for errors.

  Raises:
    DataError: the file is missing.
    AnnotationError: the file is empty, or a line is malformed (`path:line: why`).
  """
  out = []
  for lineno, fields, line in read_rows(path, what=what, fix=fix):
    try:
      row = parse(fields)
    except BadLine as e:
      raise annotation_error(path, lineno, line, str(e)) from None
    if row is not None:
      out.append(row)
  return out


def read_class_index(path, *, what, fix):
  """A `<1-based index> <ClassName>` file (UCF101's classInd.txt) -> names in label order."""
  names = {}
  for lineno, fields, line in read_rows(path, what=what, fix=fix):
    if len(fields) != 2 or not fields[0].isdigit():
      raise annotation_error(path, lineno, line, 'expected "<1-based index> <ClassName>"')
    if int(fields[0]) - 1 in names:
      raise annotation_error(path, lineno, line, f'class index {fields[0]} appears twice')
    names[int(fields[0]) - 1] = fields[1]
  if sorted(names) != list(range(len(names))):
    raise AnnotationError(
        f'{path}: class indices must be 1..N without gaps, got {sorted(names)[:5]}... {fix}')
  return [names[i] for i in range(len(names))]
