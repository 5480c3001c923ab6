"""The output guard: an LLM reply becomes a tip only if it is one short, plain, safe line.

Rules are checked in order and the first failure is the reason: empty, secret, injection,
multiple, link, markup, too_long. A rejected result carries no text, so that a caller cannot
log or store what the guard refused (it may hold a secret).
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

MAX_CHARS = 200

EMPTY = "empty"
SECRET = "secret"  # noqa: S105 - a reason, not a password
INJECTION = "injection"
MULTIPLE = "multiple"
LINK = "link"
MARKUP = "markup"
TOO_LONG = "too_long"

# Straight, curly (double and single), guillemets, low-9: opening -> closing.
_QUOTES = {'"': '"', "'": "'", "\u201c": "\u201d", "\u2018": "\u2019", "«": "»", "„": "\u201c"}

_SECRET_PATTERNS = [
    re.compile(r"\bsk-[A-Za-z0-9_\-]{8,}"),
    re.compile(r"\bbearer\s+[A-Za-z0-9._~+/\-]{8,}=*", re.IGNORECASE),
    re.compile(r"\beyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}"),  # a JWT's header.payload
    re.compile(r"\b[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\b"),
    re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|AKIA[0-9A-Z]{16}|xox[abpr]-[A-Za-z0-9-]{10,})"),
    re.compile(r"\b[0-9a-fA-F]{24,}\b"),
]
# Long unbroken runs of base64 alphabet with both letters and digits: keys, not words.
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_\-]{32,}={0,2}")

_INJECTION = re.compile(
    r"\b(?:ignore|disregard|forget|override)\W+(?:\w+\W+){0,3}?(?:instructions?|prompts?)\b"
    r"|\b(?:previous|prior|above|earlier|original)\s+(?:instructions?|prompts?)\b"
    r"|\bsystem\s+prompt\b|\bdeveloper\s+(?:message|prompt)\b"
    r"|\bas\s+an\s+ai\b|\bjailbreak|<<<|>>>",
    re.IGNORECASE,
)

_LINK = re.compile(
    r"\b[a-z][a-z0-9+.\-]*://"  # any scheme: http, https, ftp, ...
    r"|\bwww\.|\b(?:mailto|javascript|data):"
    r"|\b[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?(?:\.[a-z0-9\-]+)*\.[a-z]{2,}\b",  # bare domains
    re.IGNORECASE,
)

_ENUMERATION = re.compile(r"(?:^|\s)(?:•|\d{1,2}[.)])\s+\S")

_MARKUP = re.compile(
    r"</?[a-zA-Z!][^>]*>"  # HTML tags and comments
    r"|&[a-zA-Z]+;|&#\d+;"  # HTML entities
    r"|\*\*|__|~~|`"  # strong, strike, code
    r"|\[[^\]]*\]\([^)]*\)"  # markdown links
    r"|^\s*#{1,6}\s|^\s*>\s|^\s*[-*+•]\s|^\s*\d{1,2}[.)]\s"  # headers, quotes, bullets
    r"|(?<![\w*])\*(?=\S)[^*]+(?<=\S)\*(?![\w*])"  # *emphasis*
    r"|(?<![\w_])_(?=\S)[^_]+(?<=\S)_(?![\w_])",  # _emphasis_
)


@dataclass(frozen=True)
class GuardResult:
    """The verdict; `text` is the normalised tip when ok and empty otherwise."""

    ok: bool
    text: str
    reason: str | None = None


def normalise(text: str) -> str:
    """Strip, collapse whitespace and remove quotes around the whole text."""
    flat = " ".join(text.split())
    while len(flat) >= 2 and _QUOTES.get(flat[0]) == flat[-1]:
        flat = flat[1:-1].strip()
    return flat


def _has_secret(text: str, secrets: Sequence[str]) -> bool:
    squeezed = "".join(text.split())
    if any(s and (s in text or s in squeezed) for s in secrets):
        return True
    if any(p.search(text) for p in _SECRET_PATTERNS):
        return True
    runs = _BASE64_RUN.findall(text)
    return any(re.search(r"\d", r) and re.search(r"[A-Za-z]", r) for r in runs)


def _is_multiple(raw: str, flat: str) -> bool:
    lines = [line for line in raw.splitlines() if line.strip()]
    return len(lines) > 1 or len(_ENUMERATION.findall(flat)) > 1


def _reason(raw: str, flat: str, secrets: Sequence[str]) -> str | None:
    checks: list[tuple[str, Callable[[], bool]]] = [
        (EMPTY, lambda: not flat),
        (SECRET, lambda: _has_secret(raw, secrets)),
        (INJECTION, lambda: bool(_INJECTION.search(flat))),
        (MULTIPLE, lambda: _is_multiple(raw, flat)),
        (LINK, lambda: bool(_LINK.search(flat))),
        (MARKUP, lambda: bool(_MARKUP.search(flat))),
        (TOO_LONG, lambda: len(flat) > MAX_CHARS),
    ]
    return next((name for name, failed in checks if failed()), None)


def check_tip(text: str, *, secrets: Sequence[str] = ()) -> GuardResult:
    """Accept one short plain tip with no link, markup, secret or injection echo."""
    flat = normalise(text)
    reason = _reason(text.strip(), flat, secrets)
    if reason is not None:
        return GuardResult(ok=False, text="", reason=reason)
    return GuardResult(ok=True, text=flat)
