"""Status cue words per language (FACTS.md status: planned or live, and what asserts no
fact): the lists ``lexicon.CATEGORIES`` scans for besides the relation words. Same
conventions as ``lexicon``: a trailing ``*`` allows any ending; Chinese in simplified
characters."""

from __future__ import annotations

# fmt: off

# Wording that makes a fact `planned` (modal, future, rumour).
PLANNED: dict[str, list[str]] = {
    "en": [
        "will", "plan", "plans", "planned", "planning", "intend*", "to open", "to build",
        "to launch", "to release", "to debut", "expected", "expects", "preparing", "prepares",
        "rumour*", "rumor*", "would", "upcoming", "coming months",
        "later this year", "next year", "set to", "due to", "slated", "in talks", "aims to",
        "on track", "scheduled", "forthcoming", "to follow", "due", "in the works", "to carry",
        "delay*", "held back", "postpone*", "not yet", "pushed back",
        "could", "might", "as early as", "possibly",
        "to be", "next month", "next quarter", "by the end of", "over the next", "next twelve",
        "next 12", "next few", "coming years",
        "eyes", "eyeing", "mulls", "weighs", "considers", "considering", "explores", "exploring",
        "to spend", "to expand", "to add", "to set up", "to deploy", "to offer", "to start",
        "to begin", "to roll out", "to establish", "to construct", "to host", "to bring",
        "is coming", "are coming", "coming soon", "working on", "in development",
        "under development", "in training", "is training",
        "broke ground", "breaks ground", "groundbreaking", "earmark*", "signed a deal to",
        # leaks and preparations: an early report is planned, whatever verb it quotes
        "readies", "readying", "gearing up", "gears up", "code strings", "strings of code",
        "spotted", "leak*", "agreed to", "agrees to", "to buy", "to purchase",
        "will buy", "a deal to", "an order for", "ordered",
        "is testing", "are testing", "testing", "samples", "sampling", "hopes to", "hoping to",
        "taped out", "tape-out", "tapeout", "speculation", "speculate*",
        "should", "being prepared", "aim to", "aiming to", "aims for", "hints at", "hint at",
        "driver code", "by late", "by mid", "by early",
        # construction started is a site still to come
        "begun construction", "began construction", "begins construction",
        "started construction", "starts construction", "under construction",
        "construction began", "construction started", "imminent",
        # a model people wait for is not out: "the R2 model developers have been waiting for"
        "waiting for", "wait for", "awaited", "anticipated",
    ],
    "fr": [
        "prévoit", "prévu", "prévue", "prévus", "prévues", "va ", "vont", "ouvrira", "lancera",
        "construira", "déploiera", "intention", "attendu*", "devrait", "devraient", "prépare*",
        "préparait", "préparaient",
        "à venir", "d'ici", "feuille de route", "envisage*", "ouvrir",
        "lancer", "en cours de construction", "à l'étude", "envisagé", "envisagée",
        "reporté", "reportée", "reportés", "retard*", "pas encore",
        "sera", "seront", "commencera", "livrera", "débutera", "arrivera", "fournira",
        "pourrait", "pourraient",
        "l'an prochain", "l'année prochaine", "mois prochain", "d'ici la fin", "prochains mois",
        "prochaines années", "prochaines semaines",
        "envisage", "étudie", "réfléchit",
        "travaille sur", "en développement", "en cours de développement", "bientôt",
        "première pierre", "table sur", "chantier", "en chantier", "imminente", "imminent",
        # future tenses of live verbs ("commercialis*" would match "commercialisera")
        "commercialisera", "commercialiseront", "inaugurera", "inaugureront", "publiera",
        "publieront", "dévoilera", "dévoileront", "lanceront", "ouvriront", "déploieront",
        "livreront", "sortira", "sortiront", "mettra en service", "mettront en service",
        "s'implantera", "s'implanterait", "s'implanter", "achètera", "achèteront",
        "achèterait", "achèteraient",
        # a promise of what comes ("a promis la sortie de Qwen3.5"), not "la puce promise"
        "promis de", "promis la", "promis le", "promis l'", "promis des", "promet", "promettent",
        "s'apprête", "s'apprêtent", "teste", "testent", "en test", "espère", "espèrent",
        "recevra", "recevront", "accueillera", "accueilleront", "hébergera", "hébergeront",
        "abritera", "abriteront", "entrera", "entreront", "deviendra", "deviendront",
        "équipera", "équiperont", "installera", "installeront",
        "échantillon*", "doit sortir", "vont acheter", "va acheter", "commandé",
        "doit arriver", "doit être", "doivent être", "chaînes de code", "chaînes de caractères",
        "spéculation*",
        # a purpose is not done yet: "des partenariats pour déployer des GPU en Italie"
        "pour déployer", "pour construire", "pour bâtir", "pour installer", "pour ouvrir",
        "pour lancer", "afin de déployer", "afin de construire", "afin d'installer",
        "met au point", "mettent au point", "mis au point par", "en cours de mise au point",
        "doit suivre", "doivent suivre", "suivra", "suivront",
        "verraient le jour", "verra le jour", "verront le jour", "voir le jour", "futur",
        # conditionals of reported plans ("la puce reposerait sur Blackwell")
        "reposerait", "reposeraient", "embarquerait", "embarqueraient", "intégrerait",
        "intégreraient", "offrirait", "offriraient", "proposerait", "proposeraient",
        "utiliserait", "utiliseraient", "succéderait", "remplacerait", "arriverait",
        "arriveraient", "sortirait", "sortiraient", "serait lancé", "serait lancée",
        "indices", "l'arrivée prochaine", "mettrait", "mettraient", "finaliserait",
        "travaillerait", "préparerait", "prépareraient", "dans les cartons", "en préparation",
        "serait", "seraient", "doit", "doivent",
        "future", "futurs", "futures",
        "accueillerait", "accueilleraient", "hébergerait", "hébergeraient", "abriterait",
        "abriteraient", "équiperait", "équiperaient", "servira", "serviront",
        "ouvrirait", "ouvriraient", "lancerait", "lanceraient", "construirait", "construiraient",
        "déploierait", "déploieraient", "installerait", "installeraient", "investirait",
        "implanterait",
    ],
    "zh": [
        "计划", "将", "拟", "预计", "即将", "据传", "传闻", "传言", "盛传", "外传", "据悉", "筹建",
        "准备", "有望", "打算",
        "拟于", "将于", "预期",
        "推迟", "延迟", "延后", "尚未", "还未",
        "可能", "或于",
        "明年", "下月", "下个月", "年内", "年底前",
        "计画", "筹画", "预定",
        "考虑", "研究", "洽谈", "商谈",
        "正在研发", "研发中", "正在训练", "训练中", "开发中", "筹备", "着手",
        "开工", "动工", "奠基", "正式开工", "开工建设", "签约",
        "正在测试", "送样", "采购", "订购", "下单", "样品", "交付样品", "流片", "正在开发",
        "猜测", "推测", "字符串", "代码中发现",
        "施工", "在建", "建设中", "仍在施工", "正在施工", "正在选址", "选址", "试产", "试产阶段",
        "在路上", "目标是", "暗示", "驱动程序代码", "代码显示", "如期", "训练后期", "字串",
        "呼之欲出", "正在建设", "加紧建设", "兴建中", "正在兴建",
        # when it comes out, and headlines' rumours: "R2何时推出", "輝達傳備新款B30A"
        "何时推出", "何时发布", "何时上线", "何时开源", "传备", "传将", "传拟", "传正",
        # what the market waits for: "市场期待已久的推理模型R2", "R2也被寄予厚望"
        "寄予厚望", "期待已久", "翘首以待", "千呼万唤", "没有确切消息", "仍无确切消息",
    ],
}

# Weaker `planned` wording (announce, invest, build): used only when no stronger cue is
# in the clause, so "announced that it has opened" stays live.
PLANNED_WEAK: dict[str, list[str]] = {
    "en": [
        "roadmap", "announce*", "commit*", "proposed", "under construction", "to invest",
        "pledg*", "is building", "are building", "preview*", "teas*", "next-generation",
        "successor", "is developing", "developing",
        "maps out", "map out", "lays out", "outlines", "unveils plans",
        "reportedly", "project", "people familiar", "person familiar", "sources familiar",
        "people briefed", "people with knowledge", "according to people",
        "according to sources",
        # a site chosen is not yet built: "OpenAI picks Kajaani for first European site"
        "picks", "picked", "chooses", "chose", "chosen", "selects", "selected", "is next",
    ],
    "fr": [
        "compte", "projet*", "annonce*", "investira", "construire", "promet",
        "selon des sources", "développe", "développent", "selon plusieurs personnes",
        "selon des personnes",
        "choisit", "choisi", "choisie", "retient", "retenu", "retenue",
    ],
    "zh": [
        "规划", "路线图", "宣布", "新建", "建设", "兴建", "承诺", "投资", "打造", "下一代",
        "研发", "开发", "测试", "知情人士", "据报道", "据外媒", "外媒报导", "外媒报道", "传出",
        "供应链传",
        "落户", "选定", "选中", "落子", "入列",
    ],
}

# Wording that makes a fact `live`.
LIVE: dict[str, list[str]] = {
    "en": [
        "opened", "opens", "launched", "launches", "went live", "goes live", "is live",
        "now live", "available", "availability", "operational", "began operations", "from today",
        "as of today", "starting today",
        "begins operations", "operates", "operating", "inaugurat*", "released", "releases",
        "rolled out", "rolling out", "rolls out", "shipping", "shipped", "ships", "deployed",
        "installed", "started", "switched on", "came online", "comes online", "open-sourced",
        "open-sources", "unveiled", "unveils", "introduced", "introduces", "debuted", "debuts",
        "now offers", "has added", "went into service", "in service", "already", "upgraded",
        "beats", "outperform*", "powered by", "runs", "uses", "used", "using", "built on",
        "trained on", "in production", "mass production", "delivered", "deliveries", "sales",
        "sold", "selling", "resume*", "began", "begins", "now available", "generally available",
        "currently", "sells", "in use",
        "updated", "has begun", "have begun", "began shipping", "now running", "now runs",
        "published", "publishes", "posted", "uploaded", "made available", "makes available",
        "provides", "serves", "is serving", "are serving", "is running", "are running",
        "brought", "has brought", "had brought", "completed", "has completed", "finished",
        "gpus installed", "has operated", "have operated", "has been operating", "operated since",
        "live since", "running since", "in operation since", "in service since",
        "on sale", "went on sale", "went back on sale", "powered up", "online",
        "reinforced its position", "strengthened its position", "strengthens its position",
        "can now", "could now", "usable", "has run", "have run", "had run",
        "has been running", "have been running",
        # what users lose existed: "could no longer select GPT-4o"; "older models, including"
        "no longer", "could no longer", "can no longer", "older models", "older model",
    ],
    "fr": [
        "ouvert", "ouverte", "inaugur*", "lancé", "lancée", "lance", "disponible*",
        "opérationnel*", "en service", "mis en service", "mise en service", "déployé*",
        "dévoilé*", "dévoile", "publié*", "présenté*", "sorti", "sortie", "livré*",
        "commercialis*", "met en service", "entre en service", "entré en service",
        "en production", "mis en ligne", "utilise",
        "achevé", "achevée", "terminé", "terminée", "finalisé",
        "actuellement", "livraisons",
        "ouvre", "démarre", "est opérationnel", "entre en production",
        "a commencé", "ont commencé", "commencé à", "mis à jour", "mise à jour", "à disposition",
        "à la disposition", "déjà", "exploite", "exploitent", "propose", "proposent",
        "fournit", "sert", "dépasse", "surpasse", "bat", "fonctionne", "fonctionnent",
        "livre depuis", "livrent depuis", "livre déjà", "livrent déjà",
        "vient de", "viennent de", "existant", "existante", "existants", "existantes",
    ],
    "zh": [
        "上线", "启用", "开设", "开通", "投入运营", "投入使用", "正式运营", "开服", "发布", "推出",
        "开源", "已", "正式", "出货", "交付",
        "登场", "亮相", "开放", "落成", "运营", "上市", "量产", "采用", "基于", "恢复", "开始",
        "已经",
        "目前", "在售", "销售",
        "发表", "问世", "面世",
        "开业", "投产", "揭牌", "营运", "投入营运", "启动", "启用仪式",
        "更新", "升级", "即日起", "可使用", "已可使用", "现可", "现已",
        "安装了", "装设了", "配备了", "引进了", "导入了", "采用了", "搭载了",
        "投入运行", "投运", "完成部署", "完成安装", "部署完成", "安装完成", "投用",
        "提供", "超过", "超越", "击败", "优于",
    ],
}

# Denials and refusals: the clause asserts no fact.
NEGATION: dict[str, list[str]] = {
    "en": [
        "denies", "denied", "deny", "no plans", "no plan", "not plan*", "has no intention",
        "no intention", "ruled out", "rules out", "dismissed", "not true", "rejected reports",
        "not going to", "will not", "won't", "scrapped", "cancel*", "shelved", "abandon*",
        "halted", "suspend*", "paused", "pulled out", "withdr*", "has no", "have no", "without",
        "distanced", "walked back", "retracted", "not intend*", "does not plan", "did not plan",
        "shuts", "shut down", "shutting", "shutters", "closes its", "closed its", "closure of",
        "did not mention", "made no mention",
        "not build*", "not open*", "not launch*", "not deploy*", "no new", "not a customer",
        "never released", "never launched", "never shipped", "never came out",
        "not announced a", "not announced an", "not announced any", "nothing is hosted",
        "is not hosted", "are not hosted", "not hosted in",
        "nothing to share", "nothing to announce", "no current plans", "no immediate plans",
        "no near-term plans", "not operate", "does not operate", "did not operate",
        "doesn't operate", "didn't operate",
    ],
    "fr": [
        "dément", "démenti", "n'a pas l'intention", "pas l'intention", "aucun projet",
        "jamais sorti", "jamais sortie", "jamais lancé", "jamais lancée",
        "pas de projet", "ne prévoit pas", "n'envisage pas", "n'entend pas", "n'a pas prévu",
        "a renoncé",
        "ne compte pas", "ne va pas", "n'ouvrira pas", "ne lancera pas", "ne construira pas",
        "ne sortira pas", "renonce",
        "abandonn*", "suspend*", "annul*", "sans", "n'a aucun", "n'a pas de", "aucune", "aucun",
        "ferme", "fermeture", "se retire", "écarte", "a écarté",
        "rien à annoncer", "rien à partager", "n'exploite pas", "n'exploite aucun",
    ],
    "zh": [
        "否认", "并未", "没有计划", "无意", "不会", "暂无计划", "辟谣", "不实", "放弃", "取消",
        "暂停", "搁置", "叫停", "并无", "无计划", "不打算", "并不打算", "不计划",
        "没有", "暂无", "尚无", "未提及", "并未提及", "没有提及",
        "没有任何计划", "并无任何计划", "暂无任何计划", "没有相关计划", "并无相关计划",
        "暂无相关计划", "无相关计划", "未公布任何", "并未公布任何", "没有公布任何",
        "关闭", "关停", "撤出", "退出", "未采用", "未部署", "未使用", "从未", "未曾",
        "不考虑", "暂不考虑",
    ],
}

# Pure hypotheticals and questions.
HYPOTHETICAL: dict[str, list[str]] = {
    "en": [
        "could one day", "might one day", "if it were", "whether", "could eventually",
        "asked about",
    ],
    "fr": [
        "pourrait un jour", "si jamais", "éventuel", "éventuelle", "éventuels", "éventuelles",
        "précisé si", "préciser si", "précise pas si", "indiqué si", "dit si", "confirmé si",
        "savoir si", "se demande si",
        "interrogé sur", "interrogée sur",
    ],
    "zh": [
        "是否", "或将", "能否", "如果", "假如", "倘若", "假若", "若是", "有可能", "有一天",
        "有朝一日", "，若", "若能", "若如期", "或许", "也许",
    ],
}

# Carrying on with what exists, whatever the tense: "will continue to offer Claude Sonnet
# 4.5", "where it will keep its main endpoint", "将继续提供DeepSeek-R1": live.
CONTINUING: dict[str, list[str]] = {
    "en": [
        "continue to", "continues to", "continuing to", "will keep", "keeps", "keep offering",
        "still offers", "still available", "remain available", "remains available",
        # retiring a product means it exists: "will retire o3 by September"
        "retire", "retires", "retiring", "deprecat*", "phase out", "phasing out", "sunset",
        "will remain", "will be discontinued", "discontinue*", "ramp up production",
        "ramping up production", "boost output", "resume sales", "resume shipments",
        "resume exports", "resumed sales", "resumption of sales",
    ],
    "fr": [
        "continuera", "continueront", "continue de", "continue à", "continuent de",
        "continuent à", "conservera", "conserveront", "restera disponible",
        "toujours disponible", "retirera", "retireront", "retirer", "restera", "resteront",
        "demeurera", "ne sera plus disponible", "cessera", "montée en cadence",
        "reprendre les ventes", "reprise des ventes", "reprendra les ventes", "restent",
    ],
    "zh": ["继续", "仍将", "仍然提供", "保留", "照常", "下线", "停用", "退役", "停止服务",
           "停止提供", "停止支持", "产量", "扩产", "增产", "持续供应", "持续出货", "持续供货",
           "恢复销售", "恢复供货", "恢复出货", "恢复",
           # stopping what exists: "将于6月30日起停止在API上提供o3", "从ChatGPT下架"
           "停止", "下架"],
}

# A period of time. With a live verb in the present tense it is a schedule, not a fact
# of the past: "the 950PR ships in the first quarter", "sort au second semestre".
TIMED: dict[str, list[str]] = {
    "en": [
        "first quarter", "second quarter", "third quarter", "fourth quarter", "first half",
        "second half", "later this year", "h1", "h2", "q1", "q2", "q3", "q4", "this autumn",
        "this fall", "this summer", "this winter", "this spring", "end of the year",
    ],
    "fr": [
        "premier trimestre", "deuxième trimestre", "troisième trimestre", "quatrième trimestre",
        "premier semestre", "second semestre", "deuxième semestre", "seconde moitié",
        "fin d'année", "cet automne", "cet été", "cet hiver", "ce printemps",
    ],
    "zh": [
        "一季度", "二季度", "三季度", "四季度", "第一季", "第二季", "第三季", "第四季", "上半年",
        "下半年", "年底", "年中", "秋季", "春季", "夏季", "冬季", "今秋", "今夏", "年内", "月底",
        "月内",
        # last year's, read whole so that "年底" in them is no schedule
        "去年底", "去年年底", "去年下半年", "去年上半年", "去年年中", "去年秋季", "去年夏季",
        "去年春季", "去年冬季",
    ],
}

# fmt: on
