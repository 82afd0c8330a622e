"""Text from runs and submissions made inert for every output format (HTML, Markdown, CSV, plots, terminal).

Model names, notes and provenance come from files anybody can write. Wherever such text is shown:

- control characters (NUL, ESC, …), bidirectional overrides and isolates (U+202E, …) and lone
  surrogates become U+FFFD, so nothing can recolour a terminal, reverse a line or break an encoder;
- in Markdown, every character that could start inline markup (links, images, autolinks, emphasis,
  code, raw HTML, table cells, math) is escaped, so ``![t](https://…)`` or ``https://…`` stays text;
- in CSV, a cell that a spreadsheet would read as a formula (``=``, ``+``, ``-``, ``@``, tab or CR
  first) is prefixed with ``'``;
- in plots, ``$`` cannot start mathtext and a leading ``_`` cannot hide a legend entry.

HTML escaping itself is :func:`html.escape`, applied to the text :func:`plain` returns.
"""

from __future__ import annotations

import html
import re

REPLACEMENT = "\ufffd"
#: C0/C1 controls except tab, newline and CR (line breaks are handled below), DEL, bidi marks,
#: embeddings, overrides and isolates, and lone surrogates.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_BREAKS = re.compile("[\t\n\r\u2028\u2029]+")
#: ASCII punctuation that can start inline Markdown in a table cell (links and images need ``[``,
#: bare-URL and e-mail autolinks ``:`` or ``@``, ``www.`` links the dot after ``www``; ``<``, ``>`` and
#: ``&`` become entities). CommonMark lets any ASCII punctuation be backslash-escaped.
_MARKDOWN = re.compile(r"([\\`*_\[\]|~:@$])|(?<=www)(\.)", re.IGNORECASE)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def plain(text: object) -> str:
    """One line of inert text: unsafe characters → U+FFFD, line breaks and tabs → one space."""
    return _BREAKS.sub(" ", _UNSAFE.sub(REPLACEMENT, str(text)))


def html_text(text: object) -> str:
    """Text for HTML content or a quoted attribute."""
    return html.escape(plain(text), quote=True)


def markdown_text(text: object) -> str:
    """Text for a Markdown table cell: no markup, no raw HTML, no links, no cell breaks."""
    return _MARKDOWN.sub(lambda match: "\\" + match.group(0), html.escape(plain(text), quote=False))


def csv_text(text: object) -> str:
    """Text for a CSV cell that no spreadsheet evaluates."""
    cell = _UNSAFE.sub(REPLACEMENT, str(text))
    return "'" + cell if cell.lstrip(" ").startswith(_FORMULA_START) else cell


def plot_text(text: object) -> str:
    """A plot label (matplotlib): no mathtext, never hidden from the legend."""
    label = plain(text).replace("$", r"\$")
    return " " + label if label.startswith("_") else label
