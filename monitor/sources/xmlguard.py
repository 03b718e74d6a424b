"""Refusing XML entity declarations, whatever the document's encoding.

Feeds and pages never need ``<!ENTITY``: a declaration is either a billion-laughs bomb or
an external-entity read. It must be found in the document *as the parser decodes it*, so
a scan of the raw bytes is not enough: the same declaration in UTF-16 or UTF-32 (with or
without a byte-order mark), in UTF-7 (``+ADw-!ENTITY``) or in EBCDIC has no ``<!ENTITY``
byte sequence. ``refuse_entity_declarations`` scans the bytes (every ASCII-compatible
encoding at once) and then the text under every other decoding a parser could choose: the
byte-order mark, the wide-encoding NUL pattern of the first characters, the charset of the
Content-Type header and the encoding the XML declaration names.
"""

from __future__ import annotations

import codecs
import re

from monitor.errors import ParseError

_ENTITY_DECL = re.compile(rb"<!\s*ENTITY", re.IGNORECASE)
_ENTITY_DECL_TEXT = re.compile(r"<!\s*ENTITY", re.IGNORECASE)
_DECLARED = re.compile(r"""^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._:\-]+)["']""")
_SNIFF = 64  # bytes of the start read to recognise a wide encoding without a BOM
_EBCDIC_XML = b"\x4c\x6f\xa7\x94"  # '<?xm' in EBCDIC
_REFUSED = "document declares XML entities (<!ENTITY>); refused for safety"


def refuse_entity_declarations(body: bytes, content_type: str | None = None) -> None:
    """Raise ParseError when the document declares XML entities, in any encoding."""
    if _ENTITY_DECL.search(body):
        raise ParseError(_REFUSED)
    for encoding in _other_decodings(body, content_type):
        text = body.decode(encoding, errors="ignore")
        if _ENTITY_DECL_TEXT.search(text):
            raise ParseError(_REFUSED)


def wide_encoding(body: bytes) -> str | None:
    """UTF-16/32 (LE or BE) when the document starts with a byte-order mark, or - with no
    BOM - when its first characters have the NUL bytes of ASCII markup in that encoding."""
    if body.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    head = body[:_SNIFF]
    head = head[: len(head) - len(head) % 4]
    if not head or b"\x00" not in head:
        return None
    # the share of NUL bytes at each offset modulo 4 (markup starts with ASCII characters)
    units = len(head) // 4
    nul = [sum(head[i] == 0 for i in range(k, len(head), 4)) / units for k in range(4)]
    many, few = 0.75, 0.25
    if nul[1] > many and nul[2] > many and nul[3] > many and nul[0] < few:
        return "utf-32-le"
    if nul[0] > many and nul[1] > many and nul[2] > many and nul[3] < few:
        return "utf-32-be"
    if nul[1] > many and nul[3] > many and nul[0] < few and nul[2] < few:
        return "utf-16-le"
    if nul[0] > many and nul[2] > many and nul[1] < few and nul[3] < few:
        return "utf-16-be"
    return None


def _other_decodings(body: bytes, content_type: str | None) -> list[str]:
    """The decodings a parser could apply under which '<!ENTITY' is not its ASCII bytes:
    the byte scan has covered every other one."""
    found: list[str] = []
    wide = wide_encoding(body)
    if wide:
        found.append(wide)
    if body.startswith(_EBCDIC_XML):
        found += ["cp500", "cp037"]  # '<?xm' is the same in both; '!' is not
    head = body[:1024]
    views = [head.decode(name, errors="ignore") for name in found] or [head.decode("latin-1")]
    for name in [charset_of(content_type)] + [_declared(view) for view in views]:
        if name and name not in found and _needs_decoding(name):
            found.append(name)
    return found


def charset_of(content_type: str | None) -> str | None:
    """The ``charset=`` of a Content-Type header value, if any."""
    if not content_type:
        return None
    for part in content_type.split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'")
    return None


def _declared(text: str) -> str | None:
    match = _DECLARED.match(text.lstrip("\ufeff"))
    return match.group(1) if match else None


def _needs_decoding(name: str) -> bool:
    """Whether '<!ENTITY' in this encoding is other bytes than in ASCII (UTF-7, EBCDIC,
    UTF-16...). Unknown encodings need nothing: no parser can decode with them either."""
    try:
        return "<!ENTITY".encode(name) != b"<!ENTITY"
    except (LookupError, UnicodeError):
        return False
