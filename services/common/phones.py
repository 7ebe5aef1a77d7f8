"""Chinese mobile numbers: parsed with `phonenumbers`, stored as E.164 (+8613800138000)."""

from __future__ import annotations

import re
from typing import Any

import phonenumbers
from marshmallow import ValidationError, fields

from services.common.input_fields import Text

_MOBILE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}
_LOCAL_SHAPE = re.compile(r"1[3-9]\d{9}")


def normalise_mobile(raw: str) -> str:
    """E.164 form of a Chinese mobile; raises ValueError naming what is wrong."""
    cleaned = re.sub(r"[\s\-()]", "", raw)
    try:
        number = phonenumbers.parse(cleaned, "CN")
    except phonenumbers.NumberParseException as exc:
        raise ValueError("not a phone number") from exc
    national = str(number.national_number)
    if number.country_code != 86 or not _LOCAL_SHAPE.fullmatch(national):
        raise ValueError("not a Chinese mobile number (11 digits starting 13–19)")
    if phonenumbers.number_type(number) not in _MOBILE_TYPES:
        raise ValueError("not an assigned Chinese mobile number range")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(phone: str) -> str:
    """138****5678 for a stored or raw Chinese mobile, with or without +86."""
    digits = re.sub(r"\D", "", phone)
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return f"{digits[:3]}****{digits[-4:]}" if len(digits) >= 7 else "*" * len(digits)


class ChineseMobile(Text):
    """A marshmallow field that accepts +86, spaces and dashes and loads E.164."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        raw = super()._deserialize(value, attr, data, **kwargs)
        if len(raw) > 32:
            raise ValidationError("phone number too long")
        try:
            return normalise_mobile(raw)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


class MaskedPhone(fields.String):
    """Dumps a stored number as 138****5678, for anything an agency or an operator sees."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else mask_phone(str(value))
