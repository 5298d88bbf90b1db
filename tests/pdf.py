"""Just enough of PDF to check what headless Chromium printed: each page's text, and on which pages each table row
of a tagged PDF lies. Standard library only (zlib and a small object parser); no poppler, no PyPDF.

It reads the PDFs Chromium's Skia backend writes (PDF 1.4, a plain cross-reference table, Flate streams, Type0
fonts with Identity-H encoding and a ToUnicode map, one-byte Type3 fonts); it is not a general PDF reader.

- :meth:`Pdf.page_texts`: the text of each page, in drawing order, from the fonts' ToUnicode maps.
- :meth:`Pdf.rows`: with ``generateTaggedPDF``, Chromium tags every ``<tr>`` as a ``/TR`` structure element
  whose cells point at the marked content they drew and the page it is on (``/Pg``, or ``/MCR`` entries for
  content continued on another page). The set of pages a row's content lies on is exactly what "is this row
  split across pages" asks.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from typing import Any

_DELIMS = b"()<>[]{}/%"
_WS = b" \t\r\n\f\x00"


@dataclass(frozen=True)
class Ref:
    num: int


@dataclass(frozen=True)
class Row:
    """A table row of a tagged PDF: the pages its content lies on, and whether it is a header row."""

    pages: set[int]
    header: bool


class _Lexer:
    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data, self.pos = data, pos

    def skip(self) -> None:
        data = self.data
        while self.pos < len(data):
            c = data[self.pos : self.pos + 1]
            if c in (b" ", b"\t", b"\r", b"\n", b"\f", b"\x00"):
                self.pos += 1
            elif c == b"%":
                while self.pos < len(data) and data[self.pos : self.pos + 1] not in (b"\r", b"\n"):
                    self.pos += 1
            else:
                return

    def token(self) -> bytes:
        self.skip()
        data, start = self.data, self.pos
        c = data[start : start + 1]
        if c in (b"[", b"]", b"{", b"}"):
            self.pos += 1
            return c
        if data[start : start + 2] in (b"<<", b">>"):
            self.pos += 2
            return data[start : start + 2]
        end = start + 1 if c == b"/" else start
        while end < len(data) and data[end] not in _WS and data[end] not in _DELIMS:
            end += 1
        self.pos = end
        return data[start:end]

    def value(self) -> Any:
        self.skip()
        data = self.data
        c = data[self.pos : self.pos + 1]
        if data[self.pos : self.pos + 2] == b"<<":
            self.pos += 2
            out: dict[str, Any] = {}
            while True:
                self.skip()
                if data[self.pos : self.pos + 2] == b">>":
                    self.pos += 2
                    return out
                key = self.token()
                out[key[1:].decode("latin-1")] = self.value()
        if c == b"[":
            self.pos += 1
            items: list[Any] = []
            while True:
                self.skip()
                if data[self.pos : self.pos + 1] == b"]":
                    self.pos += 1
                    return items
                items.append(self.value())
        if c == b"(":
            return self._literal()
        if c == b"<":
            end = data.index(b">", self.pos)
            raw = re.sub(rb"\s", b"", data[self.pos + 1 : end])
            self.pos = end + 1
            return bytes.fromhex((raw + b"0" * (len(raw) % 2)).decode())
        if c == b"/":
            return self.token()  # a name keeps its slash
        word = self.token()
        if re.fullmatch(rb"[+-]?\d+", word):
            mark = self.pos
            second, third = self.token(), self.token()
            if re.fullmatch(rb"\d+", second) and third == b"R":
                return Ref(int(word))
            self.pos = mark
            return int(word)
        if re.fullmatch(rb"[+-]?\d*\.\d*", word):
            return float(word)
        return {b"true": True, b"false": False, b"null": None}.get(word, word)

    def _literal(self) -> bytes:
        data, out, depth = self.data, bytearray(), 0
        self.pos += 1
        escapes = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b", ord("f"): b"\f"}
        while True:
            ch = data[self.pos]
            self.pos += 1
            if ch == 0x5C:  # backslash
                nxt = data[self.pos]
                if nxt in escapes:
                    out += escapes[nxt]
                    self.pos += 1
                elif 0x30 <= nxt <= 0x37:
                    digits = re.match(rb"[0-7]{1,3}", data[self.pos : self.pos + 3])
                    assert digits is not None
                    out.append(int(digits[0], 8) & 0xFF)
                    self.pos += len(digits[0])
                elif nxt in (0x0A, 0x0D):
                    self.pos += 1
                else:
                    out.append(nxt)
                    self.pos += 1
            elif ch == 0x28:
                depth += 1
                out.append(ch)
            elif ch == 0x29:
                if depth == 0:
                    return bytes(out)
                depth -= 1
                out.append(ch)
            else:
                out.append(ch)


class Pdf:
    def __init__(self, data: bytes) -> None:
        assert data.startswith(b"%PDF-"), "not a PDF"
        self.data = data
        self.objects: dict[int, tuple[Any, bytes | None]] = {}
        for found in re.finditer(rb"(?m)^(\d+) (\d+) obj\b", data):
            lexer = _Lexer(data, found.end())
            value = lexer.value()
            stream = None
            lexer.skip()
            if data.startswith(b"stream", lexer.pos) and isinstance(value, dict):
                start = lexer.pos + len(b"stream")
                start += 2 if data[start : start + 2] == b"\r\n" else 1
                length = self.resolve(value["Length"]) if isinstance(value.get("Length"), Ref) else value["Length"]
                raw = data[start : start + length]
                stream = zlib.decompress(raw) if value.get("Filter") == b"/FlateDecode" else raw
            self.objects[int(found[1])] = (value, stream)
        catalog = next(v for v, _ in self.objects.values() if isinstance(v, dict) and v.get("Type") == b"/Catalog")
        self.catalog = catalog
        self.pages: list[int] = []
        self._walk_pages(catalog["Pages"])
        self._unicode: dict[int, tuple[dict[int, str], int]] = {}

    def resolve(self, value: Any) -> Any:
        while isinstance(value, Ref):
            value = self.objects[value.num][0]
        return value

    def _walk_pages(self, ref: Ref) -> None:
        node = self.resolve(ref)
        if node.get("Type") == b"/Pages":
            for kid in node["Kids"]:
                self._walk_pages(kid)
        else:
            self.pages.append(ref.num)

    # -- text ---------------------------------------------------------------------------------------------------

    def _font_map(self, ref: Ref) -> tuple[dict[int, str], int]:
        """A font's code-to-text map and its code width in bytes (2 for Type0, 1 otherwise)."""
        if ref.num not in self._unicode:
            font = self.resolve(ref)
            width = 2 if font.get("Subtype") == b"/Type0" else 1
            mapping: dict[int, str] = {}
            if isinstance(font.get("ToUnicode"), Ref):
                cmap = self.objects[font["ToUnicode"].num][1] or b""
                for block in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
                    for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
                        mapping[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be", "replace")
                for block in re.findall(rb"beginbfrange(.*?)endbfrange", cmap, re.S):
                    for lo, hi, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(<[0-9A-Fa-f]+>|\[[^\]]*\])",
                                                  block):
                        targets = re.findall(rb"<([0-9A-Fa-f]+)>", dst)
                        for n, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                            if dst.startswith(b"["):
                                mapping[code] = bytes.fromhex(targets[n].decode()).decode("utf-16-be", "replace")
                            else:
                                first = bytes.fromhex(targets[0].decode())
                                base = int.from_bytes(first, "big") + n
                                mapping[code] = base.to_bytes(len(first), "big").decode("utf-16-be", "replace")
            self._unicode[ref.num] = (mapping, width)
        return self._unicode[ref.num]

    def _contents(self, page: dict[str, Any]) -> bytes:
        contents = page.get("Contents")
        refs = contents if isinstance(contents, list) else [contents]
        return b"\n".join(self.objects[r.num][1] or b"" for r in refs if isinstance(r, Ref))

    def _fonts(self, resources: Any) -> dict[bytes, Ref]:
        fonts = self.resolve(self.resolve(resources or {}).get("Font") or {})
        return {b"/" + name.encode(): ref for name, ref in fonts.items()}

    def page_texts(self) -> list[str]:
        """Each page's text in drawing order (a new text object or a move starts a new run with a space)."""
        texts = []
        for num in self.pages:
            page = self.resolve(Ref(num))
            fonts = self._fonts(page.get("Resources"))
            texts.append(self._text(self._contents(page), fonts, page.get("Resources")))
        return texts

    def _text(self, content: bytes, fonts: dict[bytes, Ref], resources: Any, depth: int = 0) -> str:
        lexer = _Lexer(content)
        out: list[str] = []
        stack: list[Any] = []
        mapping, width = {}, 1
        while True:
            lexer.skip()
            if lexer.pos >= len(content):
                break
            c = content[lexer.pos : lexer.pos + 1]
            if c in (b"(", b"<", b"[", b"/") or re.match(rb"[-+.\d]", c):
                if content[lexer.pos : lexer.pos + 2] == b"<<":
                    stack.append(lexer.value())
                    continue
                stack.append(lexer.value())
                continue
            op = lexer.token()
            if op == b"Tf" and len(stack) >= 2 and stack[-2] in fonts:
                mapping, width = self._font_map(fonts[stack[-2]])
            elif op in (b"Tj", b"'", b'"') and stack and isinstance(stack[-1], bytes):
                out.append(self._decode(stack[-1], mapping, width))
            elif op == b"TJ" and stack and isinstance(stack[-1], list):
                out.append("".join(self._decode(s, mapping, width) for s in stack[-1] if isinstance(s, bytes)))
            elif op in (b"BT", b"Td", b"TD", b"Tm", b"T*"):
                out.append(" ")
            elif op == b"Do" and stack and depth < 4:  # a form XObject draws more content
                xobjects = self.resolve(self.resolve(resources or {}).get("XObject") or {})
                ref = xobjects.get(stack[-1].decode()[1:]) if isinstance(stack[-1], bytes) else None
                if isinstance(ref, Ref) and self.resolve(ref).get("Subtype") == b"/Form":
                    form = self.resolve(ref)
                    inner = self._fonts(form.get("Resources")) or fonts
                    out.append(self._text(self.objects[ref.num][1] or b"", inner, form.get("Resources"), depth + 1))
            elif op == b"BI":  # an inline image: skip its data
                end = content.find(b"EI", lexer.pos)
                lexer.pos = end + 2 if end >= 0 else len(content)
            stack.clear()
        return "".join(out)

    @staticmethod
    def _decode(raw: bytes, mapping: dict[int, str], width: int) -> str:
        codes = (int.from_bytes(raw[i : i + width], "big") for i in range(0, len(raw) - width + 1, width))
        return "".join(mapping.get(code, "") for code in codes)

    # -- tagged structure ---------------------------------------------------------------------------------------

    def rows(self) -> list[Row]:
        """Each ``/TR`` structure element in document order: the pages (0-based) its content lies on, and whether
        it is a header row (only ``/TH`` cells: a ``<thead>`` row, which print repeats on every page the table
        runs over)."""
        index = {num: n for n, num in enumerate(self.pages)}
        root = self.catalog.get("StructTreeRoot")
        assert root is not None, "the PDF is not tagged (print with generateTaggedPDF)"
        rows: list[Row] = []

        def pages_under(node: Any, page: int | None) -> set[int]:
            node = self.resolve(node)
            found: set[int] = set()
            if isinstance(node, int):  # a marked-content id on the enclosing element's page
                return {page} if page is not None else set()
            if isinstance(node, list):
                for kid in node:
                    found |= pages_under(kid, page)
                return found
            if not isinstance(node, dict):
                return found
            if isinstance(node.get("Pg"), Ref):
                page = index.get(node["Pg"].num, page)
            if node.get("Type") in (b"/MCR", b"/OBJR"):
                return {page} if page is not None else set()
            return pages_under(node.get("K"), page) if "K" in node else found

        def walk(node: Any) -> None:
            node = self.resolve(node)
            if isinstance(node, list):
                for kid in node:
                    walk(kid)
            elif isinstance(node, dict):
                if node.get("S") == b"/TR":
                    kids = [self.resolve(k) for k in self.resolve(node.get("K") or [])] if isinstance(
                        self.resolve(node.get("K")), list) else [self.resolve(node.get("K"))]
                    header = bool(kids) and all(isinstance(k, dict) and k.get("S") == b"/TH" for k in kids)
                    rows.append(Row(pages_under(node, None), header))
                elif "K" in node:
                    walk(node["K"])

        walk(self.resolve(root).get("K"))
        return rows
