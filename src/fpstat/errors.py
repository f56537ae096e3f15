"""Named exceptions: the few ways an fpstat command cannot continue.

Problems *in the data* are records (rejected rows, findings), never exceptions. An exception
means the command cannot go on: an unreadable file, a bad option, an ambiguous header. Every
one carries an English and a Chinese message and, where known, the location (file, sheet,
row, field), so that the command line can print one clear line and exit 2.

Messages must never contain a personal ID or a name: pass field names and masked values only.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """Where in the input a problem sits; every part optional."""

    file: str | None = None
    sheet: str | None = None
    row: int | None = None
    field: str | None = None

    def describe_en(self) -> str:
        parts = []
        if self.file:
            parts.append(str(self.file))
        if self.sheet:
            parts.append(f"sheet '{self.sheet}'")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.field:
            parts.append(f"field '{self.field}'")
        return ", ".join(parts)

    def describe_zh(self) -> str:
        parts = []
        if self.file:
            parts.append(str(self.file))
        if self.sheet:
            parts.append(f"工作表“{self.sheet}”")
        if self.row is not None:
            parts.append(f"第{self.row}行")
        if self.field:
            parts.append(f"字段“{self.field}”")
        return "，".join(parts)


class FpstatError(Exception):
    """A command cannot continue. Carries bilingual messages and a location."""

    exit_code = 2

    def __init__(
        self,
        message_en: str,
        message_zh: str,
        *,
        file: str | None = None,
        sheet: str | None = None,
        row: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message_en = message_en
        self.message_zh = message_zh
        self.location = Location(
            file=None if file is None else str(file), sheet=sheet, row=row, field=field
        )
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """``<where>: <English> / <Chinese>`` for the terminal and the log."""
        where_en = self.location.describe_en()
        where_zh = self.location.describe_zh()
        en = f"{where_en}: {self.message_en}" if where_en else self.message_en
        zh = f"{where_zh}：{self.message_zh}" if where_zh else self.message_zh
        return f"{en} / {zh}"

    def to_dict(self) -> dict[str, object]:
        return {
            "error": type(self).__name__,
            "message_en": self.message_en,
            "message_zh": self.message_zh,
            "file": self.location.file,
            "sheet": self.location.sheet,
            "row": self.location.row,
            "field": self.location.field,
        }


class UnreadableInputError(FpstatError):
    """A file is missing, of an unknown format, corrupt, or has no recognisable header."""


class UsageError(FpstatError):
    """Options, a mapping or a config file are wrong or contradict each other."""


class MappingError(UsageError):
    """Headers cannot be placed unambiguously on the data contract; ``--mapping`` settles it."""


class ConfigError(UsageError):
    """The config file is invalid: unknown key, wrong type, missing input (names key and line)."""
