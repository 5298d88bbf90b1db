"""Reading untrusted eval-tool files within limits: size caps, gzip and ZIP members (zip bombs), JSON
with depth and number checks, JSON Lines and CSV. Pure core: the standard library and the Zstandard
backport (Python 3.14 has both in its own library).

Every refusal is an :class:`ImportProblem`: one line that names the file and, where there is one, the
place (a member, a line, a field).
"""

from __future__ import annotations

import csv
import gzip
import io
import zlib
from collections.abc import Iterator
from typing import Any

from bot.core import documents
from bot.core.documents import shown

try:  # Python 3.14+: zipfile reads Zstandard members itself
    import zipfile

    from compression import zstd  # type: ignore[import-not-found]  # noqa: F401
except ImportError:  # before 3.14: the backport of the same modules
    from backports.zstd import zipfile  # type: ignore[no-redef]

MB = 1024 * 1024
MAX_FILE_BYTES = 32 * MB  # an eval output as given (compressed or not)
MAX_TEXT_BYTES = 128 * MB  # what a gzip file or the members read from a ZIP may expand to, in all
MAX_MEMBER_BYTES = 32 * MB  # one ZIP member
MAX_MEMBERS = 200_000  # an Inspect log has one member per sample and epoch
MAX_DEPTH = 64  # eval records nest deeper than evidence files (events, messages)
MAX_LINES = 1_000_000
GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"


class ImportProblem(ValueError):
    """A file that cannot be imported; the message is one line naming the file and the place."""


def read_file(path: Any, source: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """At most ``limit`` bytes of the file (a larger or endless file is refused, never read to its end)."""
    try:
        return documents.read_bytes(path, source, limit)
    except documents.FileProblem as exc:
        raise ImportProblem(str(exc)) from None


def gunzipped(data: bytes, source: str, limit: int = MAX_TEXT_BYTES) -> bytes:
    """The data itself, or what a gzip file holds (refused once it would expand past ``limit``)."""
    if not data.startswith(GZIP_MAGIC):
        return data
    out = bytearray()
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            while chunk := stream.read(MB):
                out += chunk
                if len(out) > limit:
                    raise ImportProblem(f"{source}: a gzip file that expands past {limit // MB} MB")
    except (OSError, EOFError, zlib.error):
        raise ImportProblem(f"{source}: a broken or truncated gzip file") from None
    return bytes(out)


def text_of(data: bytes, source: str) -> str:
    try:
        return documents.decode(data, source).removeprefix("\ufeff")
    except documents.FileProblem as exc:
        raise ImportProblem(str(exc)) from None


def parse_json(text: str, source: str) -> Any:
    """JSON text to data: outsize numbers are refused before they are built, nesting is limited; the text of
    transcripts is not checked (only the labels taken from it are stored, and those are checked then)."""
    try:
        return documents.parse_json(text, source, max_depth=MAX_DEPTH, check_text=False, allow_nan=True)
    except documents.FileProblem as exc:
        raise ImportProblem(str(exc)) from None


def json_lines(text: str, source: str) -> Iterator[tuple[int, Any]]:
    """(line number, parsed value) for every non-blank line."""
    for number, line in enumerate(text.splitlines(), start=1):
        if number > MAX_LINES:
            raise ImportProblem(f"{source}: more than {MAX_LINES} lines")
        if line.strip():
            yield number, parse_json(line, f"{source}, line {number}")


def csv_records(text: str, source: str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """(header, [(line, cells by column)]) of a CSV file; blank rows are skipped."""
    reader = csv.reader(io.StringIO(text))
    header: list[str] | None = None
    records: list[tuple[int, dict[str, str]]] = []
    try:
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            if header is None:
                header = [c.strip() for c in cells]
                if len(set(header)) != len(header):
                    raise ImportProblem(f"{source}: the header names a column twice")
                continue
            if len(records) >= MAX_LINES:
                raise ImportProblem(f"{source}: more than {MAX_LINES} rows")
            if len(cells) > len(header):
                raise ImportProblem(f"{source}, line {reader.line_num}: more cells than columns")
            records.append((reader.line_num, dict(zip(header, (c.strip() for c in cells), strict=False))))
    except csv.Error as exc:
        raise ImportProblem(f"{source}: not valid CSV near line {reader.line_num} ({exc})") from None
    if header is None:
        raise ImportProblem(f"{source}: the file is empty")
    return header, records


class Archive:
    """A ZIP archive read within limits: the member count is checked on opening, each member's declared
    size before it is read, and what it really expands to while it is read (a lying header changes
    nothing)."""

    def __init__(self, data: bytes, source: str) -> None:
        self.source, self.expanded = source, 0
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, OSError, EOFError, ValueError):
            raise ImportProblem(f"{source}: a broken or truncated ZIP archive") from None
        if len(infos) > MAX_MEMBERS:
            raise ImportProblem(f"{source}: a ZIP archive of more than {MAX_MEMBERS} members")
        self.members = {info.filename: info for info in infos}

    def names(self) -> list[str]:
        return list(self.members)

    def read(self, name: str) -> bytes:
        info = self.members.get(name)
        where = f"{self.source}, member {shown(name, 80)}"
        if info is None:
            raise ImportProblem(f"{where}: missing from the archive")
        if info.file_size > MAX_MEMBER_BYTES or self.expanded + info.file_size > MAX_TEXT_BYTES:
            raise ImportProblem(f"{where}: expands past the limit ({MAX_MEMBER_BYTES // MB} MB a member, "
                                f"{MAX_TEXT_BYTES // MB} MB in all)")
        try:
            with self.zip.open(info) as stream:
                data = stream.read(info.file_size + 1)
        except NotImplementedError:
            raise ImportProblem(f"{where}: compressed with a method this reader does not know") from None
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, zlib.error):
            raise ImportProblem(f"{where}: broken or truncated") from None
        if len(data) != info.file_size:
            raise ImportProblem(f"{where}: its size differs from the archive's directory")
        self.expanded += len(data)
        return data

    def json(self, name: str) -> Any:
        where = f"{self.source}, member {shown(name, 80)}"
        return parse_json(text_of(self.read(name), where), where)
