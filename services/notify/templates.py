"""SMS templates: versioned, Chinese, sent behind the station's approved signature.

One segment holds 70 characters (signature included); a longer message is sent in parts
of 67, and no message may exceed 500 characters.
"""

from __future__ import annotations

import math
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SINGLE_SEGMENT = 70
MULTI_SEGMENT = 67
MAX_LENGTH = 500


class TemplateError(ValueError):
    """A message that may not be sent as asked; the text says why."""


@dataclass(frozen=True)
class Template:
    name: str
    version: int
    text: str

    @property
    def fields(self) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(self.text) if f}


TEMPLATES = {
    t.name: t
    for t in (
        Template(
            "report_received",
            1,
            "您反映的情况已受理，查询码{tracking_code}。我们将尽快处理并告知结果。",
        ),
        Template(
            "report_duplicate",
            1,
            "您反映的隐患此前已有人报告（查询码{original_code}），已合并处理，您的查询码{tracking_code}。",
        ),
        # The same acknowledgements with a link to the tracking page (PUBLIC_BASE_URL set).
        Template(
            "report_received_link",
            1,
            "您反映的情况已受理，查询码{tracking_code}，办理进度可查：{track_url}",
        ),
        Template(
            "report_duplicate_link",
            1,
            "您反映的隐患此前已有人报告（查询码{original_code}），已合并处理，"
            "您的查询码{tracking_code}，进度可查：{track_url}",
        ),
        # Answers to a resident who asked by SMS reply (CX or a 查询码).
        Template(
            "report_status",
            1,
            "您反映的情况（查询码{tracking_code}）{status}。{next_step}",
        ),
        Template(
            "report_status_unknown",
            1,
            "未查到本手机号反映的情况，请核对查询码后重新发送。",
        ),
        Template(
            "case_assigned",
            1,
            "{village}新纠纷待您受理，查询码{tracking_code}，请于{due}前接案。",
        ),
        Template(
            "case_taken_over",
            1,
            "{village}纠纷（查询码{tracking_code}）超过受理时限未接案，现由您负责，请于{due}前接案。",
        ),
        Template(
            "case_overdue",
            1,
            "{village}纠纷（查询码{tracking_code}）{what}已超时，请尽快处理。",
        ),
        Template(
            "officer_digest",
            1,
            "今日待办：在办纠纷{open}件，今日到期{due_today}件，已超期{overdue}件。",
        ),
        Template(
            "rewards_digest",
            1,
            "奖励待办：待核实隐患{to_verify}件，待审核提名{to_review}件，待审批提名{to_approve}件。",
        ),
        Template(
            "cases_digest",
            1,
            "新纠纷{new}件待您受理（{villages}），在办已超期{overdue}件，请及时登录处理。",
        ),
        Template(
            "follow_up_reminder",
            1,
            "回访提醒：{villages}纠纷共{count}件待回访，最早{due}到期。",
        ),
        Template(
            "case_accepted",
            1,
            "您反映的{village}纠纷（查询码{tracking_code}）已由社区民警受理，将尽快组织调解。",
        ),
        Template(
            "session_booked",
            1,
            "您的纠纷（查询码{tracking_code}）定于{starts}在{desk}调解，请准时参加。",
        ),
        Template(
            "session_reminder",
            1,
            "提醒：您的纠纷（查询码{tracking_code}）将于{starts}在{desk}调解，请准时参加。",
        ),
        Template(
            "case_resolved",
            1,
            "您反映的{village}纠纷（查询码{tracking_code}）已调解成功，我们将回访。",
        ),
        Template(
            "agreement_reached",
            1,
            "调解协议已达成（查询码{tracking_code}），请于{perform_by}前履行；"
            "双方可在30日内共同向法院申请司法确认。",
        ),
        Template(
            "judicial_confirmation_reminder",
            1,
            "提醒：您的调解协议（查询码{tracking_code}）双方可于{by}前共同向人民法院申请司法确认。",
        ),
        Template(
            "agreement_perform_reminder",
            1,
            "提醒：您的调解协议（查询码{tracking_code}）约定于{by}前履行，请按时履行。",
        ),
        Template(
            "case_declined",
            1,
            "您反映的纠纷（查询码{tracking_code}）因当事人不同意调解已终止。"
            "您可依法向法院起诉，或通过信访渠道反映。",
        ),
        Template(
            "claim_approved",
            1,
            "您报告的隐患（查询码{tracking_code}）经网格员核实，获网格红包{amount}元，将尽快发放。",
        ),
        Template(
            "claim_awaiting_leader",
            1,
            "您报告的隐患（查询码{tracking_code}）经网格员核实属实，奖励待所领导审批。",
        ),
        Template(
            "claim_rejected",
            1,
            "您报告的隐患（查询码{tracking_code}）经核实不予奖励，感谢您的关注。",
        ),
        Template(
            "claim_duplicate",
            1,
            "您报告的隐患（查询码{tracking_code}）此前已有人报告，每处隐患奖励首位报告人，感谢您的关注。",
        ),
        Template(
            "claim_paid",
            1,
            "网格红包{amount}元已发放（查询码{tracking_code}），感谢您守护平安。",
        ),
        Template(
            "nomination_step",
            1,
            "{award}推荐（查询码{tracking_code}）：{step}。",
        ),
        Template(
            "award_paid",
            1,
            "您的{award}奖励{amount}元已发放（查询码{tracking_code}），请留意查收。",
        ),
        Template(
            "nomination_overdue",
            1,
            "{award}推荐（查询码{tracking_code}）{what}已超时，请尽快处理。",
        ),
    )
}


@dataclass(frozen=True)
class Rendered:
    template: Template
    text: str
    segments: int


def count_segments(text: str) -> int:
    """How many SMS parts `text` (signature included) is billed and sent as."""
    return 1 if len(text) <= SINGLE_SEGMENT else math.ceil(len(text) / MULTI_SEGMENT)


def param_problems(template: Template, params: Mapping[str, object]) -> dict[str, list[str]]:
    """Each parameter `template` needs and `params` lacks, and each it does not take."""
    takes = ", ".join(sorted(template.fields)) or "none"
    problems = {
        name: ["Missing data for required field."]
        for name in sorted(template.fields - params.keys())
    }
    problems.update(
        {
            name: [f"Unknown field; template {template.name!r} takes {takes}."]
            for name in sorted(params.keys() - template.fields)
        }
    )
    return problems


def render(*, signature: str, template_name: str, params: dict[str, Any]) -> Rendered:
    """The full text of an SMS; raises TemplateError naming what is wrong."""
    template = TEMPLATES.get(template_name)
    if template is None:
        raise TemplateError(f"unknown template {template_name!r}")
    missing = sorted(template.fields - params.keys())
    if missing:
        raise TemplateError(f"template {template_name!r} needs {', '.join(missing)}")
    body = template.text.format(**{k: str(v) for k, v in params.items()})
    if "【" in body or "】" in body:
        raise TemplateError("the body may not contain 【 or 】 (reserved for the signature)")
    text = signature + body
    if len(text) > MAX_LENGTH:
        raise TemplateError(f"message is {len(text)} characters; at most {MAX_LENGTH}")
    return Rendered(template=template, text=text, segments=count_segments(text))
