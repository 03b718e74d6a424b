"""Cue words per language (FACTS.md relations; the status words are in
``status_words``).

Latin-script cues match at word boundaries; a trailing ``*`` allows any ending
(``launch*`` matches launches, launched). Chinese cues are written in simplified
characters: the text is folded from traditional before matching. Cues of every
language are matched at once, so an item with a wrong or missing ``lang`` still works.
"""

from __future__ import annotations

from monitor.extract.status_words import (
    CONTINUING,
    HYPOTHETICAL,
    LIVE,
    NEGATION,
    PLANNED,
    PLANNED_WEAK,
    TIMED,
)

# fmt: off

# The clause ties a company to infrastructure or a cloud service in a place.
INFRA: dict[str, list[str]] = {
    "en": [
        "data centre*", "data center*", "datacenter*", "datacentre*", "cloud region*", "region",
        "regions", "availability zone*", "cloud service*", "cloud infrastructure",
        "ai infrastructure", "compute capacity", "computing capacity", "campus", "campuses",
        "cluster*", "supercomputer*", "ai factory", "ai factories", "gigafactory", "stargate",
        "joint venture", "infrastructure region", "local cloud", "gpus installed", "servers",
        "server farm*", "sovereign cloud", "cloud platform", "ai cloud", "ai data centre*",
        "ai data center*", "hyperscale", "capacity in", "node*", "point of presence",
        "site", "sites", "points of presence", "installed", "deployed", "facility", "facilities",
        "computing centre*", "computing center*", "compute centre*", "compute center*",
        "computing hub*", "infrastructure", "data residency", "in-country processing",
        "in-country data processing",
        # a cloud's zones: "new zones in Bangkok and Manila" (not "zones" alone: rural zones)
        "new zone", "new zones", "second zone", "third zone",
        # cloud instances offered in a country are a local cloud service, and so is hosting
        # there: "Anthropic's Australian hosting is live", "requests processed in Sydney"
        "instances in", "hosting", "hosted in", "processed in",
    ],
    "fr": [
        "centre de données", "centres de données", "centre de donnees", "datacenter*",
        "région cloud", "régions cloud", "région", "régions", "zone de disponibilité",
        "zones de disponibilité", "infrastructure cloud", "infrastructures cloud",
        "services cloud", "service cloud", "campus", "supercalculateur*", "grappe*",
        "coentreprise", "cloud souverain", "capacité de calcul", "usine d'ia", "usines d'ia",
        "stargate",
        "déploy*", "installé*", "serveurs", "en construire", "en ouvrir", "en installer",
        "site", "sites", "centre de calcul", "centres de calcul", "centre informatique",
        "pôle de calcul", "installation", "installations", "infrastructure", "infrastructures",
        "résidence des données", "hébergement local des données",
        # also planned: the one phrase is both ("pour déployer des GPU en Italie")
        "pour déployer", "afin de déployer", "pour installer", "afin d'installer",
        "nouvelle zone", "nouvelles zones", "deuxième zone", "troisième zone",
        # a presence set up in a country (an office or a plant is nearer its own word)
        "s'implanter", "s'implante", "s'implantera", "s'implanterait", "implantation",
        "hébergement", "traitées en", "traitées au",
        "nœud", "nœuds", "noeud", "noeuds",
    ],
    "zh": [
        "数据中心", "资料中心", "云地域", "地域", "可用区", "云区域", "区域", "节点", "云服务",
        "云端服务", "云端区域", "算力中心",
        "智算中心", "超算", "园区", "集群", "合资", "星际之门", "基础设施", "算力", "部署",
        "据点", "机房",
        "服务器", "伺服器", "超级电脑", "超级计算机", "云端资料中心", "算力集群", "开服", "设施",
        "站点", "ai工厂", "计算中心", "数据驻留", "数据本地驻留",
    ],
}

# Where a statement was made ("said at GITEX in Dubai", "réuni à Singapour"): not
# infrastructure for the places after it (location.closer_to_not_infra).
VENUE: dict[str, list[str]] = {
    "en": [
        "said at", "says at", "speaking at", "speaking in", "spoke at", "spoke in",
        "told reporters", "told journalists", "press conference", "news conference",
        "press briefing",
        # the place of an announcement: "unveiled in Shanghai a roadmap"
        "unveiled in", "announced in",
    ],
    "fr": ["réuni", "réunis", "réunie", "réunies", "s'exprimant", "lors d'une rencontre",
           "conférence de presse", "rencontre avec la presse",
           "dévoilé à", "dévoilée à", "présenté à", "présentée à", "annoncé à", "annoncée à",
           "confirmé à", "déclaré à", "indiqué à", "précisé à", "expliqué à"],
}

# Things that are not infrastructure even though a company and place share a clause.
NOT_INFRA: dict[str, list[str]] = {
    "en": [
        "office", "offices", "headquarter*", "research lab*", "research centre",
        "research center", "r&d centre", "r&d center", "conference", "summit", "listing",
        "listed", "export licen*", "sanction*", "regulator*", "ban", "banned", "tariff*",
        "customers in", "clients in", "users in", "sellers in", "merchants in",
        "developers in", "businesses in", "sales in", "revenue", "keynote", "event",
        "expo", "trade show",
        "court", "court's", "courtroom", "courthouse", "ministry", "minister", "government",
        "cloud provider*",
        "cloud service provider*", "cloud services provider*",
        "sell", "sells", "selling", "sold", "sales", "customers", "clients",
        "manufacturing facility", "manufacturing facilities", "production facility",
        "production facilities", "research facility", "research facilities", "training facility",
        "factory", "factories", "demand in", "demand from", "showcase*", "exhibit*",
        "exhibition", "forum", "solutions", "website", "web site", "test site",
        "manufacturing site", "production site",
        *VENUE["en"],
        "shares of", "stock", "stocks", "assembled", "assembles", "assembly", "guidance",
        "plant", "plants", "lenders", "banks", "users",
        "domestic market", "home market", "market for", "retailers", "stores", "shops",
        "blocked",
        "data center revenue", "data centre revenue", "data center sales", "data centre sales",
        "data center business", "data centre business", "data center segment",
        # the trade, not a site: "Malaysia's data-centre boom"
        "data centre boom", "data center boom", "data centre market", "data center market",
        "data centre industry", "data center industry", "data centre sector",
        "data center sector", "data centre operators", "data center operators",
        "data centre spending", "data center spending", "data centre stocks",
        "data center stocks",
        # people and firms around it: "sold to its 9,000 employees in Morocco"
        "employees", "staff", "workforce", "consultancy", "consulting firm", "law firm",
        "brokerage", "earnings call", "conference call", "fund", "funds", "investors",
        "infrastructure fund", "infrastructure funds", "infrastructure investor*",
        # who makes and ships the parts: "demand for Taiwan's server supply chain"
        "supply chain", "supply chains", "suppliers", "server assembly", "server makers",
        # training people, not hosting: "an innovation centre in Casablanca"
        "innovation centre", "innovation center", "training centre", "training center",
        # a country's rules on building, not a site: "curbs on new facilities"
        "moratorium", "curbs on new", "restrictions on new", "constraints in", "shortages in",
        "shortage in",
    ],
    "fr": [
        "bureau", "bureaux", "siège", "laboratoire", "conférence", "sanction*", "cotation",
        "salon", "sommet", "gouvernement", "ministre", "tribunal",
        "vend", "vendent", "vendre", "ventes", "clients", "demande", "forum",
        "solutions", "site web", "site internet", "site de production",
        *VENUE["fr"],
        "assemblé*", "actions de", "usine", "usines", "banques", "utilisateurs",
        "pour le marché", "marché intérieur", "marché domestique", "détaillants", "magasins",
        "bloquée", "bloqué", "bloquées", "bloqués",
        "marché des centres de données", "secteur des centres de données",
        "boom des centres de données", "opérateurs de centres de données",
        "collaborateurs", "salariés", "employés", "cabinet", "cabinets", "fonds d'infrastructure",
        "chaîne d'approvisionnement", "fournisseurs", "assembleurs", "centre d'innovation",
        "centre de formation", "moratoire",
    ],
    "zh": [
        "办公室", "总部", "研究院", "实验室", "大会", "上市", "制裁", "出口管制", "禁令",
        "峰会", "收入", "营收", "政府", "法院",
        "云服务商", "云厂商", "服务商", "云端服务商", "云端业者", "云业者",
        "销售", "客户", "需求", "展会", "展出", "论坛", "解决方案", "发布会", "发表会", "举行",
        "举办", "记者会", "说明会", "座谈会", "组装", "代工", "股价", "工厂", "用户", "银行",
        "区域总部", "地区总部", "市场", "零售商", "门店", "区域办公室", "区域办事处", "地区办公室",
        "地区办事处",
        "数据中心营收", "数据中心收入", "数据中心业务", "资料中心营收", "资料中心收入", "下载量",
        "数据中心市场", "数据中心产业", "数据中心行业", "数据中心热潮", "资料中心市场",
        "资料中心产业", "数据中心运营商", "资料中心营运商", "研发中心", "研发据点", "研发",
        "供应链", "服务器供应链", "伺服器供应链", "组装厂", "服务器组装厂", "伺服器组装厂",
        "限制新建", "暂停新建", "禁止新建", "创新中心", "培训中心",
    ],
}

# Export rules and sanctions: a sentence about them states no infrastructure (FACTS.md:
# "export licences are not infrastructure"), whatever places and data centres it names.
REGULATORY: dict[str, list[str]] = {
    "en": [
        "export licence*", "export license*", "export control*", "export rule*", "licences to",
        "licenses to", "licence to", "license to", "export ban*", "entity list", "sanction*",
        "diverted", "diversion", "smuggl*", "prosecutors", "indicted", "indictment",
        "fraud charges", "export restriction*", "export curb*", "curbs on exports",
        "exports to",
    ],
    "fr": ["licence d'exportation", "licences d'exportation", "contrôle des exportations",
           "exportation vers", "exportations vers",
           "contrôles à l'exportation", "sanction*", "contrebande", "détourn*", "parquet",
           "procureur*", "mis en examen", "inculp*", "restrictions à l'exportation",
           "restrictions d'exportation"],
    "zh": ["出口管制", "出口许可", "许可证", "实体清单", "制裁", "走私", "转运", "检方", "起诉",
           "指控", "涉案", "欺诈", "出口限制", "限制出口", "芯片出口", "晶片出口"],
}

# Words that contain a cue but are not one ("开发者" is a developer, not "开发" develop;
# "上线时间" is a launch date, not "上线" gone live). A cue inside one of these is dropped.
NEUTRAL: dict[str, list[str]] = {
    "en": ["plan b", "data plan", "price plan", "business plan", "statement published",
           "report published", "than expected", "than planned", "than anticipated",
           "long-awaited", "long awaited", "much-anticipated", "much anticipated",
           "eagerly awaited", "highly anticipated",
           # hosting an event, not a service: "is hosting a workshop in July"
           "hosting a", "hosting an", "hosting the", "hosting its",
           # made to run on hardware is no deployment of it
           "optimized to run on", "optimised to run on", "adapted to run on"],
    "fr": [
        "communiqué publié", "rapport publié", "étude publiée",
        "sur le plan", "plan social", "présenté comme", "présentés comme", "présentée comme",
        "présentées comme",
    ],
    "zh": ["开发者", "开发商", "发布会", "上线时间", "发布时间", "计划经济", "开放式", "开源社区",
           "开源框架", "开源推理框架", "开源项目", "开源软件", "开源工具", "开源生态", "开源平台",
           "区域总部", "地区总部", "将军", "已宣布", "已签约", "已决定", "已计划",
           # not saying is no denial: "并未披露新加坡节点所用的算力供应商"
           "并未披露", "未披露", "并未透露", "未透露", "并未说明", "未说明", "并未公布", "未公布",
           # what was bought: "采购的英伟达H200已完成部署" (a purchase is planned, a purchased
           # chip is not)
           "采购的", "订购的"],
}

# Unnamed AI hardware: with a chip maker and a deployment verb, the maker's chips are
# being put into a site ("NVIDIA GPUs will fill the sites").
HARDWARE: dict[str, list[str]] = {
    "en": ["gpus", "gpu", "chips", "accelerators", "superchips", "processors"],
    "fr": ["processeurs graphiques", "puces", "gpu", "accélérateurs", "processeurs",
           "superpuces"],
    "zh": ["芯片", "gpu", "加速卡", "算力卡", "显卡", "处理器", "晶片", "绘图芯片"],
}

# Putting hardware into a site.
DEPLOY: dict[str, list[str]] = {
    "en": [
        "install*", "deploy*", "fill", "fills", "filled", "house", "houses", "host", "hosts",
        "equip*", "power", "powers", "powered", "run on", "runs on", "running on", "runs",
        "rented", "leased", "trained on", "training it on", "trains on",
    ],
    "fr": ["install*", "déploy*", "accueill*", "équip*", "héberg*", "alimenter", "fonctionnera sur",
           "reposera sur", "fonctionnent", "tournent", "abrite", "abritent", "abritera",
           "abriteront"],
    "zh": ["部署", "搭载", "配备", "装设", "安装", "采用", "导入", "引进", "进驻", "建置", "布建",
           "上线"],
}

# Infrastructure that already exists, whatever the verb's tense: "will expand its data
# centre in Dubai", "served from its Singapore region", "existing regions in Riyadh".
EXISTING: dict[str, list[str]] = {
    "en": [
        "existing", "expand its", "expands its", "expanding its", "expanded its", "extend its",
        "extends its", "upgrade its", "upgrades its", "upgrading its", "served from", "use its",
        "uses its", "using its", "upgrade of its", "expansion of its", "extension of its",
    ],
    "fr": [
        "existant", "existante", "existants", "existantes", "agrandir son", "agrandit son",
        "étendre son", "étend son", "depuis son", "depuis sa",
    ],
    # expanding what is there: "扩建其在迪拜的数据中心" (its), "已投运的数据中心"; "扩建墨西哥、日本
    # 的数据中心" alone is labelled a plan by the blind sets' writers
    "zh": ["现有", "既有", "原有", "扩建其", "扩容其", "扩建旗下", "扩容旗下", "已投运的",
           "已投入运营的", "已运营的", "已启用的", "已开通的", "已上线的", "运营中的", "营运中的"],
}

# Serving from a place: with SERVING_FROM before the place, the company's service runs
# there ("serves its models from Tokyo", "sert ses clients depuis Francfort", "自东京提供").
SERVE: dict[str, list[str]] = {
    "en": ["serve", "serves", "served", "serving", "hosts its", "hosted", "offers its", "runs its",
           "delivers its", "runs services", "run services", "running services",
           "operates services"],
    "fr": ["sert", "servir", "servent", "servait", "servaient", "servira", "serviront", "servis",
           "servie", "servies",
           "dessert", "desservent", "desservait", "propose", "proposent", "héberg*", "fournit"],
    "zh": ["提供", "服务", "托管"],
}

# Consumer devices: a chip that goes into a phone or a laptop is not AI hardware deployed
# at a site ("Mate 80 搭载麒麟9030芯片", "phones equipped with Kirin chips").
CONSUMER: dict[str, list[str]] = {
    "en": ["phone", "phones", "smartphone*", "handset*", "laptop*", "tablet*", "wearable*",
           "graphics card*", "gamers", "gaming pc*",
           "game console*", "gaming console*", "smartwatch*"],
    "fr": ["téléphone*", "smartphone*", "ordinateur portable", "ordinateurs portables",
           "tablette*", "console de jeu*", "montre connectée", "montres connectées"],
    "zh": ["手机", "平板", "笔记本电脑", "游戏机", "智能手表", "耳机", "机型", "起售价", "折叠机",
           "折叠屏", "开卖", "售罄", "首销"],
}

# An occasion taken: the purpose after it was done ("a profité de la tribune pour lancer
# Qwen3-Max": launched), but it tells no status of its own ("... pour annoncer l'ouverture
# prochaine de régions").
OCCASION: dict[str, list[str]] = {
    "en": [],
    "fr": ["a profité", "ont profité", "a aussi profité", "a également profité",
           "ont aussi profité", "profitant", "a saisi l'occasion", "a mis à profit"],
    "zh": [],
}

CATEGORIES: dict[str, dict[str, list[str]]] = {
    "infra": INFRA,
    "planned": PLANNED,
    "planned_weak": PLANNED_WEAK,
    "live": LIVE,
    "negation": NEGATION,
    "hypothetical": HYPOTHETICAL,
    "not_infra": NOT_INFRA,
    "neutral": NEUTRAL,
    "regulatory": REGULATORY,
    "hardware": HARDWARE,
    "deploy": DEPLOY,
    "existing": EXISTING,
    "continuing": CONTINUING,
    "timed": TIMED,
    "serve": SERVE,
    "consumer": CONSUMER,
    "occasion": OCCASION,
}
# fmt: on
