"""Rendering a notification from the shared message files (vaxrec/locales).

The HTML part of an email is made from its text part, not translated separately: a translator
edits one text per email, the two parts cannot drift apart, and the markup (no remote images,
no tracking, `lang` and `dir` for right-to-left languages) is the same in every language.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from vaxrec.i18n import PLACEHOLDER, fill, message, pick_language, text_direction

Kind = Literal["card_issued", "unmatched"]
Channel = Literal["sms", "email"]

_STYLE = (
    "body{margin:0;padding:24px 16px;background:#fff;color:#1b1b1b;"
    "font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans',Arial,sans-serif;"
    "font-size:16px;line-height:1.5}"
    "main{max-width:36em;margin:0 auto}"
    "h1{font-size:1.4em;margin:0 0 1em}"
    "a.button{display:inline-block;padding:.75em 1.25em;background:#005ea2;color:#fff;"
    "text-decoration:none;border-radius:4px;font-weight:bold}"
    ".address{font-size:.85em;word-break:break-all;color:#444}"
    "footer{margin-top:2em;border-top:1px solid #ddd;padding-top:1em;font-size:.85em;color:#555}"
)


@dataclass(frozen=True)
class Rendered:
    """A notification ready for its channel: an SMS text, or an email's subject and parts."""

    kind: Kind
    language: str
    text: str
    subject: str | None = None
    html: str | None = None


def render(kind: Kind, channel: Channel, tag: str, values: Mapping[str, str]) -> Rendered:
    """The message `kind` for `channel` in the best language for the BCP 47 `tag`."""
    language = pick_language(tag)
    if channel == "sms":
        return Rendered(kind, language, fill(message(language, kind), values))
    subject = fill(message(language, f"{kind}.subject"), values)
    body = message(language, f"{kind}.email")
    footer = message(language, "email.footer")
    button = message(language, f"{kind}.button") if "{link}" in body else ""
    return Rendered(
        kind,
        language,
        text=f"{fill(body, values)}\n\n{footer}",
        subject=subject,
        html=_html(language, subject, body, footer, button, values),
    )


def _html(
    language: str,
    subject: str,
    body: str,
    footer: str,
    button: str,
    values: Mapping[str, str],
) -> str:
    blocks = [f"<h1>{html.escape(subject)}</h1>"]
    for paragraph in body.split("\n\n"):
        lines: list[str] = []
        for line in paragraph.strip().split("\n"):
            if line.strip() == "{link}":
                blocks.extend(_paragraph(lines))
                lines = []
                link = html.escape(values["link"])
                blocks.append(f'<p><a class="button" href="{link}">{html.escape(button)}</a></p>')
                blocks.append(f'<p class="address" dir="ltr">{link}</p>')
            else:
                lines.append(_inline(line, values))
        blocks.extend(_paragraph(lines))
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{language}" dir="{text_direction(language)}">\n'
        '<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(subject)}</title>\n<style>{_STYLE}</style>\n</head>\n"
        "<body>\n<main>\n"
        + "\n".join(blocks)
        + f"\n<footer>{html.escape(footer)}</footer>\n</main>\n</body>\n</html>\n"
    )


def _paragraph(lines: list[str]) -> list[str]:
    return [f"<p>{'<br>'.join(lines)}</p>"] if lines else []


def _inline(line: str, values: Mapping[str, str]) -> str:
    """Escape a line of text and fill its placeholders; web addresses become links."""
    out: list[str] = []
    position = 0
    for match in PLACEHOLDER.finditer(line):
        out.append(html.escape(line[position : match.start()]))
        raw = values[match.group(1)]
        value = html.escape(raw)
        is_web = raw.startswith(("https://", "http://"))
        out.append(f'<a href="{value}">{value}</a>' if is_web else value)
        position = match.end()
    out.append(html.escape(line[position:]))
    return "".join(out)
