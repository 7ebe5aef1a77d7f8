"""What a resident reads about his report: one Chinese sentence per timeline event and status.

Only these texts reach a resident, never an event's `detail` (which may name people, or the
station's internal workings). Every event has an entry, and a test fails when one is added
without a sentence here. `shown=False` keeps an event off the resident's timeline: it is
about the station's own work (a risk grade, a supervision deadline) or about messages that
may have gone to someone else, not about what happened to his report.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.common.contracts import TimelineEvent
from services.intake.service import IntakeEvent


@dataclass(frozen=True)
class ResidentText:
    text: str
    shown: bool = True


E = TimelineEvent
EVENT_TEXTS: dict[str, ResidentText] = {
    IntakeEvent.RECEIVED: ResidentText("您反映的情况已受理。"),
    IntakeEvent.MARKED_DUPLICATE: ResidentText("此前已有人报告同一处隐患，已合并处理。"),
    # disputes
    E.CASE_OPENED: ResidentText("已转交辖区社区民警。"),
    E.CASE_ACCEPTED: ResidentText("社区民警已受理，将组织调解。"),
    E.CASE_REASSIGNED: ResidentText("已改由其他民警负责办理。"),
    E.RISK_GRADE_CHANGED: ResidentText("民警已评估案件情况。", shown=False),
    E.SESSION_HELD: ResidentText("已组织调解，双方尚未达成一致，调解继续。"),
    E.CASE_ESCALATED: ResidentText("已安排到调解室（或驻所律师等）进一步调解，时间另行短信通知。"),
    E.SESSION_RESCHEDULED: ResidentText("调解时间已调整，新时间另行短信通知。"),
    E.JOINT_MEETING_CALLED: ResidentText("已提请多部门联席会议共同调处。"),
    E.CASE_RESOLVED: ResidentText("纠纷已调解成功。"),
    E.CASE_DECLINED: ResidentText(
        "因当事人不同意调解，调解已终止；您可依法起诉或通过信访渠道反映。"
    ),
    E.FOLLOW_UP_DONE: ResidentText("民警已回访。"),
    E.CASE_REBOUNDED: ResidentText("纠纷再次发生，已重新受理。"),
    E.CASE_CLOSED: ResidentText("已办结。"),
    E.DEADLINE_BREACHED: ResidentText("办理超过时限，已提醒督办。", shown=False),
    # hazards and rewards
    E.HAZARD_CLAIM_OPENED: ResidentText("已转交网格员核实隐患。"),
    E.NOMINATION_OPENED: ResidentText("推荐已收到，等待审核。"),
    E.CLAIM_VERIFIED: ResidentText("网格员已核实隐患。"),
    E.CLAIM_APPROVED: ResidentText("奖励已获批准。"),
    E.CLAIM_REJECTED: ResidentText("经核实，本次报告不予奖励，感谢您的关注。"),
    E.CLAIM_DUPLICATE: ResidentText("此前已有人报告同一处隐患，奖励归首位报告人。"),
    E.NOMINATION_UNDER_REVIEW: ResidentText("推荐正在审核。"),
    E.REWARD_PAID: ResidentText("奖励已发放。"),
    E.AWARD_APPROVED: ResidentText("奖励已获批准，将尽快发放。"),
    E.CLAIM_CLOSED: ResidentText("已办结。"),
    # nominations
    E.NOTICE_PUBLISHED: ResidentText("已进入公示。"),
    E.NOTICE_SKIPPED: ResidentText("依规定免予公示。"),
    E.OBJECTION_FILED: ResidentText("公示期间收到异议，正在核实。"),
    E.OBJECTION_ANSWERED: ResidentText("公示期间的异议已核实处理。"),
    E.NOTICE_ENDED: ResidentText("公示期满，等待审批。"),
    E.NOMINATION_EXTENDED: ResidentText("审核期限依规定延长。"),
    E.NOMINATION_REJECTED: ResidentText("经审核，本次推荐未获通过；可在规定期限内申请复核。"),
    E.NOMINATION_HONOURED: ResidentText("推荐已获通过。"),
    E.NOMINATION_APPEALED: ResidentText("复核申请已收到。"),
    E.APPEAL_DECIDED: ResidentText("复核已作出决定。"),
    # messages
    E.SMS_SENT: ResidentText("已发送短信通知。", shown=False),
    E.SMS_FAILED: ResidentText("短信未能送达。", shown=False),
    E.SMS_SCHEDULED: ResidentText("短信将在夜间免打扰时段后发送。", shown=False),
}

# An event this table does not know yet (a newer producer): said without its particulars.
UNKNOWN_EVENT = ResidentText("办理有新进展。")

STATUS_TEXTS: dict[str, str] = {
    "received": "已受理，正在分派",
    "routed": "已转交负责单位",
    "in_progress": "正在办理",
    "resolved": "已化解",
    "rewarded": "已获奖励",
    "declined": "调解已终止",
    "duplicate": "已合并到此前的报告",
    "closed": "已办结",
}


def event_text(event: str) -> ResidentText:
    """The resident's sentence for a timeline event."""
    return EVENT_TEXTS.get(event, UNKNOWN_EVENT)


# What comes next, by the latest event shown to the resident; an event not named here (a
# case closed, a reward paid, a refusal) leaves nothing next.
NEXT_STEPS: dict[str, str] = {
    IntakeEvent.RECEIVED: "分派给负责单位办理。",
    E.CASE_OPENED: "等待社区民警受理。",
    E.CASE_ACCEPTED: "民警将联系双方组织调解。",
    E.CASE_REASSIGNED: "负责民警将联系双方组织调解。",
    E.SESSION_HELD: "继续组织调解，时间另行短信通知。",
    E.CASE_ESCALATED: "按短信通知的时间参加调解。",
    E.SESSION_RESCHEDULED: "按短信通知的新时间参加调解。",
    E.JOINT_MEETING_CALLED: "联席会议召开时间另行短信通知。",
    E.CASE_RESOLVED: "民警将回访了解协议履行情况。",
    E.CASE_REBOUNDED: "民警将再次联系双方组织调解。",
    E.FOLLOW_UP_DONE: "等待办结。",
    E.HAZARD_CLAIM_OPENED: "等待网格员核实隐患。",
    E.CLAIM_VERIFIED: "等待奖励审批或发放。",
    E.CLAIM_APPROVED: "奖励将尽快发放。",
    E.AWARD_APPROVED: "奖励将尽快发放。",
    E.NOMINATION_OPENED: "等待审核。",
    E.NOMINATION_UNDER_REVIEW: "等待审核结果。",
    E.NOTICE_PUBLISHED: "公示期满后审批。",
    E.NOTICE_SKIPPED: "等待审批。",
    E.OBJECTION_FILED: "核实异议后继续办理。",
    E.OBJECTION_ANSWERED: "公示期满后审批。",
    E.NOTICE_ENDED: "等待审批。",
    E.NOMINATION_EXTENDED: "等待审核结果。",
    E.NOMINATION_APPEALED: "等待复核决定。",
    E.NOMINATION_HONOURED: "奖励将尽快发放。",
}
