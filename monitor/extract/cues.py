"""The status cues around a mention: the mentions of a span, of a clause, of a relative
clause after a name, and the status their nearest cue gives. Pure functions."""

from __future__ import annotations

import re
from bisect import bisect_left

from monitor.extract.mentions import Mention
from monitor.extract.rules import (
    COMPARED,
    COMPARED_GATE,
    COMPETED_AFTER,
    COMPETED_BEFORE,
    PAST_MODIFIER_CJK,
    PREDECESSOR,
    PREDECESSOR_GATE,
    RELATIVE,
    TOKEN,
    ReadText,
    gap_span,
)
from monitor.extract.wordsets import PERFECTIVE_CJK, PRESENT_LIVE, TENSELESS_LIVE, UNVEILING

STATUS_CUES = ("planned", "live")
CLAUSE_STATUS = (*STATUS_CUES, "planned_weak")  # cues that make a relative clause about the name
MODAL_REACH = 12  # characters between "will"/"计划" and the verb it governs
CJK_MODAL_REACH = 30  # ... for a Chinese modal, whose verb ends the phrase


def within(fld: ReadText, start: int, end: int) -> list[Mention]:
    """The mentions inside [start, end)."""
    lo = bisect_left(fld.starts, start)
    hi = bisect_left(fld.starts, end)
    return [m for m in fld.mentions[lo:hi] if m.end <= end]


# live adverbs that take the status of the verb right after them
_CJK_ADVERBS = frozenset(["正式", "已", "已经"])


def status_of(cues: list[Mention], start: int, end: int) -> tuple[str, int]:
    """(status, strength) from the cue nearest to [start, end); ('live', 0) if none.

    Weak cues (announce, invest, build) count only when no other cue is there. A
    future or modal cue just before a live verb governs it: "计划下月发布" and
    "expected to go live" are planned.
    """
    strong = [c for c in cues if c.category in STATUS_CUES]
    pool = strong or [c for c in cues if c.category == "planned_weak"]
    if not pool:
        return "live", 0
    strength = 2 if strong else 1
    nearest = min(pool, key=lambda c: gap_span(c, start, end))
    if nearest.value in TENSELESS_LIVE:
        # a participle tells no time; a tensed cue of the sentence does: "will set up a
        # data centre at Jamnagar powered by Nvidia's GB200 superchips"
        tensed = [c for c in strong if c.value not in TENSELESS_LIVE]
        if tensed:
            nearest = min(tensed, key=lambda c: gap_span(c, start, end))
        elif any(c.category == "planned_weak" for c in cues):
            return "planned", 1  # "正在研发一款基于Blackwell架构的新芯片": being developed
    if nearest.category == "planned" and nearest.value.startswith(("pour ", "afin d")):
        taken = [c for c in cues if c.category == "occasion" and c.end <= nearest.start]
        if any(nearest.start - c.end <= 60 for c in taken):
            return "live", strength  # "a profité de l'événement pour lancer X": launched
    if nearest.category == "live":
        if nearest.value in _CJK_ADVERBS and any(
            c.category == "planned" and 0 <= c.start - nearest.end <= 1 for c in strong
        ):
            return "planned", strength  # "已正式动工": the verb after the adverb tells
        if nearest.value in UNVEILING and any(c.category == "planned" for c in strong):
            return "planned", strength  # unveiled now, due later
        if nearest.value in PRESENT_LIVE and any(
            c.category == "timed" or c.value == "later year" for c in cues
        ):
            return "planned", strength  # "ships in the second half": a schedule
        if "\u4e00" <= nearest.value[0] <= "\u9fff" and any(
            c.category == "timed"
            and 0 <= nearest.start - c.end <= 2
            and not c.value.startswith("去")  # "去年底发布": last year's
            for c in cues
        ):
            return "planned", max(strength, 1)  # "秋季投用", "下半年上线": a schedule
        if (
            nearest.value not in PERFECTIVE_CJK
            and any(c.value in PERFECTIVE_CJK and 0 <= nearest.start - c.end <= 1 for c in strong)
        ) or (
            nearest.value in PERFECTIVE_CJK
            and any(c.category == "live" and 0 <= c.start - nearest.end <= 1 for c in strong)
        ):
            return "live", strength  # "将基于已发布的X": 已 makes the verb past, whatever modal
        for cue in strong:
            if cue.category != "planned":
                continue
            # "计划下月发布", "will go live"; "deliveries are expected", "livraisons attendues"
            if 0 <= nearest.start - cue.end <= MODAL_REACH or (
                0 <= cue.start - nearest.end <= MODAL_REACH
            ):
                return "planned", strength
            # a Chinese modal governs the verb that ends its phrase, however long the
            # places between: "将在未来一年于巴西、法国与荷兰启用"
            if (
                0 <= nearest.start - cue.end <= CJK_MODAL_REACH
                and "\u4e00" <= cue.value[0] <= "\u9fff"
                and not any(
                    c.category == "live" and cue.end <= c.start < nearest.start for c in strong
                )
            ):
                return "planned", strength
        return "live", strength
    return "planned", strength


def clause_cues(fld: ReadText, clauses: list[tuple[int, int]], start: int) -> list[Mention]:
    for c_start, c_end in clauses:
        if c_start <= start < c_end:
            return within(fld, c_start, c_end)
    return []


def relative_clause_cues(fld: ReadText, clauses: list[tuple[int, int]], end: int) -> list[Mention]:
    """Cues of a relative clause right after a name ("X, which began shipping")."""
    for index, (c_start, c_end) in enumerate(clauses):
        if c_start < end <= c_end:
            if index + 1 == len(clauses):
                return []
            n_start, n_end = clauses[index + 1]
            if not RELATIVE.match(fld.folded, n_start):  # the cheaper test first
                return []
            if len(TOKEN.findall(fld.folded[end:c_end])) > 2:  # name not at clause end
                return []
            return within(fld, n_start, n_end)
    return []


# A Chinese clause joined by 并 ("and also") shares the modal of the clause before it:
# "将在墨西哥新建数据中心，并在巴西开设首个可用区" plans both.
_COORDINATING_CJK = ("并", "同时", "并将", "并于", "也将")
_OWN_TENSE = frozenset(["planned", "existing", "continuing"])


def coordinated_planned(fld: ReadText, clauses: list[tuple[int, int]], start: int) -> bool:
    """The clause holding ``start`` opens on 并, has no tense of its own (a modal, 已, an
    existing site), and the clause before it has a Chinese modal ("将", "计划", "拟")."""
    for index, (c_start, c_end) in enumerate(clauses):
        if c_start <= start < c_end:
            if index == 0:
                return False
            opening = fld.folded[c_start : c_start + 3].lstrip("，,；; ")
            if not opening.startswith(_COORDINATING_CJK):
                return False
            for c in within(fld, c_start, c_end):
                # its own modal, or what is already there ("并扩充其已营运的设施")
                if c.category in _OWN_TENSE or c.value in PERFECTIVE_CJK:
                    return False
            p_start, p_end = clauses[index - 1]
            return any(
                c.category == "planned" and "\u4e00" <= c.value[0] <= "\u9fff"
                for c in within(fld, p_start, p_end)
            )
    return False


def said_to_exist(folded: str, g_start: int, start: int, end: int) -> bool:
    """The words before a name (or its list, from ``g_start``) say it exists: a
    predecessor ("the successor to its R1 model", "取代此前并存的GPT-4o、o3": both), a
    yardstick ("priced in line with Claude Opus 4.5", "与X相当"), or a Chinese modifier
    telling it is out ("此前已开源的视觉理解模型Qwen3-VL")."""
    window = max(0, g_start - 60)
    return bool(
        (
            PREDECESSOR_GATE.search(folded, window, g_start)
            and PREDECESSOR.search(folded, window, g_start)
        )
        or (
            COMPARED_GATE.search(folded, window, g_start)
            and COMPARED.search(folded, window, g_start)
        )
        or (COMPETED_BEFORE.search(folded, window, start) and COMPETED_AFTER.match(folded, end))
        or ("的" in folded[window:g_start] and PAST_MODIFIER_CJK.search(folded, window, g_start))
    )


# Words before a chip's name that put it to use: bought, deployed, installed, run, trained
# on. A chip in use exists, whatever the tense of the deployment: "will deploy 18,000 GB300
# chips", "racks of Nvidia's GB300", "the 4,000 B200 GPUs it ordered", "将采购约1.8万颗英伟达
# GB300". The deployment's plan is the site's status (regions), not the chip's.
IN_USE = re.compile(
    r"(?:\b(?:deploy(?:s|ed|ing)?|install(?:s|ed|ing)?|host(?:s|ed|ing)?|hous(?:es|ed|ing)|"
    r"(?:equipped|fitted|filled|stocked) with|runs? on|running(?: on)?|powered by|"
    r"built (?:on|around|with)|based on|uses|used|using|buy(?:s|ing)?|bought|"
    r"order(?:s|ed|ing)?|purchas(?:es|ed|ing|e)|rent(?:s|ed|ing)?(?: out)?|"
    r"racks? of|clusters? of|fleet of|stockpiles? of|inventory of|"
    r"train(?:s|ed|ing)?(?: \w+)? on|"
    r"déplo\w*|install\w*|accueill\w*|héberg\w*|équipée?s? (?:de|d'|en)|dotée?s? (?:de|d')|"
    r"align\w*|achet\w*|achèt\w*|achats? d[e']|command\w*|loue\w*|louée?s?|utilis\w*|exploit\w*|"
    r"s'appuie sur|s'appuient sur|basée?s? sur|à base d[e']|entraîn\w*(?: \w+)? sur)\b"
    r"(?:\s+[\w.'’\-]+(?:,\d{3})*){0,6}\s*|"
    r"(?:部署|采购|购入|购买|买入|搭载|导入|采用|使用|基于|配备|装配|引进|囤积|储备|租用|运行)"
    r"[^\s，。、；：,;:]{0,12})$"
)
# A successor or next generation named before the chip: it may be the new one ("a successor
# system built on the Ascend 960 is planned for 2027").
NEW_BEFORE = re.compile(
    r"successor|next|upcoming|forthcoming|future|unreleased|unannounced|successeur|"
    r"prochaine?s? (?:génération|puces?|gpu|processeurs?|accélérateurs?)|futur|"
    r"下一代|新一代|下代|后续|接班|即将(?:推出|发布|上市)"
)
# A sentence that leaks or reports a preparation is an early report of its chip, in use or
# not: "code strings suggest servers running the B30A", "readying racks of B30A chips".
EARLY_REPORT = re.compile(
    r"code strings|strings of code|driver code|leak|readies|readying|preparing|prepares|"
    r"rumou?r|samples|sampling|chaînes de|prépar|rumeur|fuite|"
    r"字符串|代码|据传|传闻|传言|送样|准备|筹备"
)


# Words before a model's name that put it to use: served, run, used, fine-tuned, offered
# from a site. A model in use exists, whatever the tense of the site: "will serve Qwen3-Max
# locally", "OpenAI will use the site to serve GPT-5", "新增算力将用于执行Qwen3等大模型".
MODEL_IN_USE = re.compile(
    r"(?:\b(?:serv(?:e|es|ed|ing)|run(?:s|ning)?|us(?:e|es|ing)|fine-tun(?:e|es|ing)|"
    r"host(?:s|ing)?|offer(?:s|ing)?|stay on|starting with|start with|"
    r"servir|servira|serviront|utilis\w*|héberg\w*|propos\w*|débutera avec|"
    r"commencera par)\b(?:\s+[\w.'’\-]+){0,4}?\s*|"
    r"(?:用于执行|用于运行|用于|运行|提供|部署|调用|接入|托管)[^\s，。、；：,;:]{0,10})$"
)


def model_in_use(folded: str, s_start: int, s_end: int, g_start: int) -> bool:
    """The words before a model's name (in its sentence) put it to use, and neither a
    successor nor a leak makes it a new one."""
    return bool(
        MODEL_IN_USE.search(folded, max(s_start, g_start - 50), g_start)
        and not NEW_BEFORE.search(folded, s_start, g_start)
        and not EARLY_REPORT.search(folded, s_start, s_end)
    )


def in_use(folded: str, s_start: int, s_end: int, g_start: int) -> bool:
    """The words before a chip's name (in its sentence) put it to use (``IN_USE``), and
    neither a successor named before it nor the sentence's leak makes it a new one."""
    return bool(
        IN_USE.search(folded, max(s_start, g_start - 60), g_start)
        and not NEW_BEFORE.search(folded, s_start, g_start)
        and not EARLY_REPORT.search(folded, s_start, s_end)
    )
