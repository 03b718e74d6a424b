"""Word sets the rules look words up in (not cue categories the scan finds): which live
verbs are present tense, which negations deny a report or cancel a plan, the words that
make a place a location, that join a list, that come between a serving verb and a city.
Chinese words in simplified characters, as the folded text is."""

from __future__ import annotations

# fmt: off
# Live verbs in the present tense: with a period of time (TIMED, a later year) they
# announce a schedule ("ships in the second half").
PRESENT_LIVE = frozenset([
    "ships", "launches", "opens", "debuts", "releases", "begins", "goes live", "comes online",
    "ouvre", "lance", "démarre",
])
# Chinese words that make the live verb after them past, whatever modal: "将基于已发布的X".
PERFECTIVE_CJK = frozenset(["已", "已经", "现已"])
# Live cues with no tense (participles): a tensed cue of the same sentence decides.
TENSELESS_LIVE = frozenset(["powered by", "built on", "using", "trained on", "基于", "upgraded"])
# Leaks: an early report whatever verb it quotes, however far the name ("Des chaînes de
# caractères découvertes dans l'application font référence à « claude-opus-4-6 »").
LEAKS = frozenset([
    "code strings", "strings of code", "driver code", "chaînes de code",
    "chaînes de caractères", "字符串", "代码中发现", "驱动程序代码", "代码显示", "字串",
])
# Unveiling is not shipping: an unveiled product with a planned cue nearby is planned
# ("unveiled the Ascend 920, due for mass production in the second half").
UNVEILING = frozenset([
    "unveiled", "unveils", "introduced", "introduces", "dévoilé*", "dévoile", "présenté*",
    "debuted", "debuts", "发表", "亮相", "登场",
])

# Words right before a place that make it the place where something is ("in Mexico").
LOCATIVE_LATIN = frozenset([
    "covers", "covering", "spans", "spanning", "couvre", "couvrant",
    "across", "at", "au", "aux", "dans", "en", "in", "inside", "into", "near", "près",
    "throughout", "vers", "à", "including", "notamment", "dont",
])
LOCATIVE_CJK = (
    "在", "于", "位于", "落地", "落户", "进驻", "进入", "赴", "至", "到", "布局", "登陆", "包括",
    "覆盖", "连同", "选址", "选定",
)
# Pronouns that stand for an infrastructure noun said before them, before "de"/"of" and a
# place: "sa deuxième région, après celle de Johannesburg", "compléteront celles de Francfort".
INFRA_PRONOUNS = frozenset(["celle", "celles", "celui", "ceux", "those"])
# Denials of a report: they govern the whole sentence ("针对...报道，华为否认").
DENYING = frozenset([
    "denies", "denied", "deny", "dément", "démenti", "否认", "辟谣", "不实",
    "没有相关计划", "并无相关计划", "暂无相关计划", "无相关计划",
])
# Negations that stop something rather than deny it: a chip whose sales are halted
# or a model withdrawn from an API still exists (they count for regions only).
STOPPING = frozenset([
    "halted", "suspend*", "paused", "withdr*", "shuts", "shut down", "shutting", "shutters",
    "closes its", "closed its", "closure of", "暂停", "关闭", "关停", "撤出", "退出",
])
# Negations that scope over what follows them only: "released without an announcement".
SCOPE_AFTER = frozenset(["without", "sans", "没有"])
# Negations that cancel a release or a plan (rather than deny some other claim).
CANCELLING = frozenset([
    "no plans", "no plan", "not plan*", "has no intention", "no intention", "not going to",
    "will not", "won't", "ruled out", "rules out", "not intend*", "does not plan", "did not plan",
    "n'entend pas", "n'a pas prévu", "ne compte pas", "ne va pas", "n'ouvrira pas",
    "ne lancera pas", "ne construira pas", "ne sortira pas",
    "无计划", "不打算", "并不打算", "不计划", "没有任何计划", "并无任何计划", "暂无任何计划",
    "没有相关计划", "并无相关计划", "暂无相关计划", "无相关计划",
    "scrapped", "cancel*", "shelved", "abandon*", "n'a pas l'intention", "pas l'intention",
    "aucun projet", "pas de projet", "ne prévoit pas", "n'envisage pas", "a renoncé", "renonce",
    "abandonn*", "annul*", "没有计划", "暂无计划", "无意", "不会", "放弃", "取消", "搁置", "叫停",
])
# Words between a locative and its place: "in northern Norway", "dans le nord du Maroc".
PLACE_MODIFIERS = frozenset([
    "the", "la", "le", "les", "l'", "l’", "northern", "southern", "eastern", "western",
    "central", "north", "south", "east", "west", "north-east", "north-west", "south-east",
    "south-west", "nord", "sud", "est", "ouest", "du", "de", "mainland", "neighbouring",
])
# After a family name alone, words that make it an architecture or a platform, not a
# product ("Rubin-based systems", "Blackwell architecture", "昇腾架构").
NOT_A_PRODUCT_AFTER = (
    "-based", " based", "-class", " architecture", " generation", " platform", " era",
    "架构", "平台", "世代", "时代",
)
# ... and before it, in French word order ("la future architecture Rubin de Nvidia")
NOT_A_PRODUCT_BEFORE = ("architecture", "plateforme", "génération", "gamme")
# Chinese words that govern a family name used as the ordinary verb it also is
# (昇腾/升腾 "soar"): "股价一路昇腾", "气势昇腾", "人气节节升腾".
CJK_VERB_GOVERNORS = (
    "气势", "股价", "股價", "一路", "节节", "不断", "持续", "人气", "热度", "声势", "指数",
    "行情", "涨势", "士气", "火焰", "烟雾", "蒸汽", "价格", "气氛", "情绪", "斗志", "直线",
)
# Words before a place that say a service runs from there, with a SERVE verb.
SERVING_FROM_LATIN = frozenset(["from", "depuis", "via", "through"])
SERVING_FROM_CJK = ("从", "自", "通过", "经由")
# "serves users from China" are users who are from China, not a service run there.
SERVED_PEOPLE = frozenset([
    "users", "customers", "clients", "developers", "people", "visitors", "subscribers",
    "officials", "delegates", "ministers", "executives", "companies", "firms", "banks",
    "utilisateurs", "clients", "abonnés", "développeurs", "responsables", "entreprises",
])
# Words that may sit between two places of one list ("in Brazil, France and the Netherlands").
LIST_JOINERS = frozenset([
    ",", "and", "au", "aux", "de", "des", "du", "en", "et", "l'", "la", "le", "les", "or", "ou",
    "the", "、", "与", "及", "和", "ainsi", "qu'en", "qu’en", "que", "as", "well", "to",
])
# fmt: on
