"""Domain cue words: hand-written lexicons from the taxonomy and the labelling guidelines.

Each cue groups words and phrases that point the same way (fire words, follow-up phrases,
"happening now" markers). A message gets one feature per cue hit, next to its n-grams, so
that a synonym the training data never used still lands on a weight that was trained. The
lexicons come from domain knowledge, never from the evaluation messages.

Pattern syntax: lower case; `word*` matches every word starting with `word`; anything else
matches whole words only; a pattern may span words ("in de fik").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# The lexicons stay packed, several patterns a line, to be readable as lists of words.
# fmt: off
CUES: dict[str, tuple[str, ...]] = {
    # --- categories ---------------------------------------------------------------------------
    "cat_inbraak": (
        "inbr*", "ingebroken", "inbreek*", "inbrek*", "opengebroken", "openbreken", "openbrek*",
        "geforceerd", "forceer*", "forceren", "wrik*", "gewrikt", "opengewrikt", "koevoet",
        "breekijzer", "braaksporen", "braakschade", "breeksporen", "ingeklommen",
        "naar binnen geklommen", "binnengedrongen", "binnengekomen", "ingeslagen ruit",
        "ruit ingeslagen", "kerntrek*", "cilinder*", "slot geforceerd", "slot kapot",
        "burglar*", "break-in", "broke in", "broken into", "breaking in", "forced", "inbreker*",
        "binnengeklommen", "klom naar binnen", "glas breken", "gestommel", "dakraam",
        "openstaand raam", "wrikken", "achterdeur open", "schuur open", "deur open",
    ),
    "cat_diefstal": (
        "gestolen", "steel*", "stelen", "stal", "dief", "dieven", "diefstal*", "meegenomen",
        "weggenomen", "ontvreemd*", "gejat", "jatten", "gepikt", "zakkenroll*", "rollers",
        "pakket*", "pakketje*", "katalysator*", "weggehaald uit", "verdwenen uit",
        "fietsendief*", "stolen", "stole", "theft", "thief", "thieves", "pickpocket*", "nicked",
        "taken from", "weggegrist", "gegrist", "grist", "tasje", "portemonnee", "portefeuille",
        "fiets weg", "fiets kwijt", "weggehaald", "meegenomen uit", "van de stoep",
        "ladingdief*", "kentekenplat*", "bike was taken", "was taken", "taken",
    ),
    "cat_verdacht": (
        "verdacht*", "louche", "loert", "loeren", "gluur*", "spied*", "deurklink*", "klink*",
        "aan de deur*", "deuren proberen", "probeert deuren", "foto's van huizen",
        "fotografeer*", "fotografeert", "filmt", "filmen", "rondjes", "rondrij*", "cirkelt",
        "onbekende man", "onbekende mannen", "vreemde man", "vreemde auto", "bestelbus*",
        "busje", "zaklamp", "capuchon", "bivakmuts", "suspicious", "creepy", "lurking",
        "prowl*", "casing", "loopt rond", "liep rond", "rondlopen", "gluurt", "staarde",
        "staart", "kijkt naar binnen", "keek naar binnen", "in auto's", "in de auto's",
        "bij auto's", "bellen aan", "aanbellen", "belt aan", "checken", "gecheckt",
        "controleren", "camera", "notities", "kenteken", "zonder lichten", "rondrijden",
        "langzaam", "al een tijdje", "al een half uur", "zelfde auto", "weird", "strange",
        "watching",
    ),
    "cat_oplichting": (
        "oplicht*", "opgelicht", "babbeltruc*", "nep*", "phishing", "fraude*", "fraudeur*",
        "hoi mam", "hallo mam", "hoi pap", "betaalverzoek*", "tikkie", "pinpas*", "pincode*",
        "bankpas*", "bankmedewerker*", "van de bank", "helpdesk", "inlogcode*", "sms*", "link",
        "valse", "vals", "collect*", "meteropnemer*", "skim*", "scam*", "fraud*", "fake",
        "neppe", "oplichter*", "nepmail", "nepsms", "nepbericht*", "whatsapp fraude",
        "vriend in nood", "geld overmaken", "overmaken", "overboeking", "rekeningnummer",
        "iban", "loterij", "prijs gewonnen", "gewonnen", "energiecontract",
        "energieleverancier", "verkoper*", "aan de deur verkopen", "handtekening",
        "legitimatie", "pasje", "politiepet", "zogenaamd", "zogenaamde", "doet zich voor",
        "deden zich voor", "gaf zich uit", "zich uit voor", "pretend*", "dhl", "postnl",
        "douane", "inloggen", "klik niet", "niet op klikken",
    ),
    "cat_vandalisme": (
        "vandal*", "vernield", "vernielt", "vernielen", "vernieling*", "kapotgemaakt",
        "kapot gemaakt", "kapotgetrapt", "graffiti", "beklad*", "bekrast", "gekrast", "krassen",
        "lekgestoken", "lek gestoken", "banden lek", "spiegel*", "afgebroken", "ingegooid",
        "ingetrapt", "uitgetrapt", "gesloopt", "sloopt", "tags", "getagd", "spuitbus*",
        "opgeblazen", "smashed", "damaged", "vandalised", "vandalized", "keyed", "slashed",
        "kapotgegooid", "kapot gegooid", "ingeslagen", "omgegooid", "omver gegooid",
        "omvergegooid", "eraf getrapt", "afgetrapt", "eraf gebogen", "verbogen", "uitgetrokken",
        "beschadigd*", "schade", "volgekalkt", "gekalkt", "stift", "verf", "scheldwoord*",
        "ruiten", "ruit", "ventiel*", "lucht uit de banden",
    ),
    "cat_overlast": (
        "overlast", "herrie", "lawaai*", "harde muziek", "muziek", "geschreeuw", "schreeuw*",
        "hangjeugd", "hangjongeren", "hangplek", "rondhang*", "dronken", "zat", "bezopen",
        "drugs", "dealen", "dealer*", "gedeald", "lachgas", "blow*", "wiet", "joint*",
        "vuurwerk*", "knal*", "intimid*", "bedreig*", "ruzie*", "scheld*", "feest*", "noise",
        "loud", "drunk", "youths", "dealing", "geluidsoverlast", "gelal", "lallen", "joelen",
        "hangen", "hangt", "hing", "jongeren", "jeugd", "groepje", "scooterjeugd", "toeteren",
        "bonken", "gebonk", "stampen", "airbnb", "feestje", "dj", "schelden", "schold",
        "uitgescholden", "naroepen", "roepen", "spugen", "gespuugd", "intimiderend",
        "agressief", "agressie", "vechtpartij", "gevecht", "knokpartij", "duwen", "rotzooi",
        "zuipen", "gebruiken", "naald", "spuit", "shisha*", "zwaar vuurwerk", "cobra*",
        "nitraat",
    ),
    "cat_verkeer": (
        "verkeer*", "te hard", "hard rijden", "hard gereden", "rijdt hard", "racen", "racet",
        "racend*", "scheur*", "snelheid", "km/u", "kmh", "drempel*", "parkeer*", "geparkeerd",
        "aanrijding", "aangereden", "ongeluk", "ongeval", "botsing", "gebotst", "zebrapad",
        "oversteek*", "oversteken", "kruispunt", "stoep", "fietspad", "scooter*", "brommer*",
        "fatbike*", "vrachtwagen*", "spookrijder*", "speeding", "crash*", "accident", "parked",
        "reckless", "rijdt", "rijden", "reed", "gereden", "rijdend", "bestuurder",
        "automobilist*", "fietser*", "voetganger*", "motor", "motorrijder*", "motoren",
        "opgevoerd*", "wheelie*", "door rood", "rood licht", "zigzag*", "spookrij*", "geschept",
        "over de kop", "inhalen", "haalt in", "30 zone", "30-zone", "schoolzone", "schoolplein",
        "oversteekplaats", "verkeerslicht*", "flitser*", "flitspaal", "rotonde", "kenteken",
        "bus", "red light",
    ),
    "cat_brand": (
        "brand*", "rook", "rookt", "rookwolk*", "rookontwikkeling", "vlam*", "in de fik", "fik",
        "vuur", "smeul*", "gaslucht", "gas", "ruikt naar gas", "explosie*", "ontplof*",
        "explosief", "brandweer", "rookmelder*", "brandalarm", "afgebrand", "uitgebrand",
        "fire", "smoke", "smoking", "flames", "burning", "burnt", "explosion", "brandt",
        "brandde", "brandend", "in brand", "staat in brand", "fikkie", "rookmelder gaat",
        "rookmelder piept", "piept", "smeulende", "geblakerd", "zwartgeblakerd", "roet",
        "asbak", "containerbrand", "autobrand", "ontploffing", "explodeerde", "knal en",
        "gaslek", "ruik gas", "ruikt naar", "stank", "brandlucht", "brandgeur", "on fire",
        "gas smell",
    ),
    "cat_zorg": (
        "verward*", "dement*", "in de war", "dwaalt", "dwalen", "vermist*", "kwijtgeraakt",
        "kind alleen", "alleen op straat", "huilend*", "huilt", "onwel", "gevallen",
        "op de grond", "ligt op straat", "bewusteloos", "ambulance", "huiselijk geweld",
        "mishandel*", "hulpbehoevend*", "oudere", "ouderen", "bejaard*", "oude man",
        "oude vrouw", "oude dame", "oude meneer", "mevrouw", "rollator", "confused", "missing",
        "lost child", "unwell", "collapsed", "elderly", "verdwaald", "de weg kwijt",
        "weet niet waar", "weet niet meer", "waar hij woont", "waar ze woont", "pyjama",
        "ochtendjas", "blote voeten", "op sloffen", "in de kou", "onderkoeld", "gegil", "gil",
        "gillen", "hulpgeroep", "roept om hulp", "klappen", "geschreeuw uit", "huiselijk",
        "kindje", "peuter", "kleuter", "klein kind", "klein meisje", "klein jongetje", "baby",
        "zonder ouder*", "geen ouder*", "ouders kwijt", "zieke", "ziek", "flauwgevallen",
        "in elkaar gezakt", "onwel geworden", "reanim*", "aed", "ademt niet", "balkonrand",
        "springen", "suïcid*", "zelfmoord", "eenzaam", "vereenzaamd", "zorgen om",
        "maak me zorgen", "zorgen over", "welzijn", "wijkverpleging",
    ),
    "cat_openbare_ruimte": (
        "lantaarn*", "lamp", "lampen", "straatlamp*", "straatverlichting", "verlichting",
        "donker", "pikkedonker", "losliggend*", "stoeptegel*", "tegels", "gat in de weg",
        "kuil*", "afval", "gedumpt", "dumping", "zwerfvuil", "vuilniszak*", "grofvuil",
        "overwoekerd", "overgroeid", "struiken", "takken", "boom", "putdeksel*", "put",
        "hekwerk", "speeltoestel*", "bankje*", "gemeente", "fixi", "streetlight*", "pothole*",
        "rubbish", "dumped", "litter", "doet het niet", "doen het niet", "flikkert", "knippert",
        "storing", "kapotte lamp", "kapotte lampen", "losse tegel*", "losliggende", "omhoog",
        "uitsteken", "gat", "gaten", "scheur in", "verzakt", "verzakking", "wortels",
        "overhangend*", "snoeien", "bladeren", "glad", "gladheid", "strooien", "afvalbak*",
        "prullenbak*", "container*", "sluikstort*", "gedumpte", "achtergelaten", "troep",
        "rommel", "stoep", "hek", "hekje", "speeltuin", "speelveld*", "schommel", "glijbaan",
        "riool", "rioolput", "kolk", "wateroverlast", "plas", "borden", "verkeersbord*",
        "bewegwijzering",
    ),
    # --- kinds --------------------------------------------------------------------------------
    "kind_terugkoppeling": (
        "politie is geweest", "politie was er", "politie ter plaatse", "is ter plaatse",
        "ter plaatse geweest", "aangehouden", "opgepakt", "gearresteerd", "meegenomen door",
        "aangifte", "gemeld bij", "melding gemaakt", "melding gedaan", "heb gemeld",
        "heb het gemeld", "heb gebeld", "112 gebeld", "politie gebeld", "is onderweg",
        "zijn onderweg", "gerepareerd", "vervangen", "gemaakt", "opgeruimd", "weggehaald",
        "loos alarm", "vals alarm", "teruggevonden", "terug gevonden", "gevonden", "opgelost",
        "update", "bleek", "afgehandeld", "wijkagent laat weten", "zaak", "terecht", "arrested",
        "police came", "fixed", "repaired", "reported", "found", "false alarm", "is geweest",
        "zijn geweest", "kwam", "kwamen", "is gekomen", "zijn gekomen", "hebben hem",
        "hebben ze", "opgehaald", "afgesleept", "is terug", "weer terug", "doet het weer",
        "doen het weer", "hersteld", "bedankt voor", "dank voor het meedenken",
        "bedankt allemaal", "bedankt iedereen", "ter info", "nieuws over", "terugkoppeling",
        "bericht van de politie", "bericht van de gemeente", "melding", "meld misdaad anoniem",
        "ticketnummer", "zaaknummer", "dossiernummer", "registratienummer", "proces-verbaal",
        "case number", "police report", "bekeurd", "bekeuring*", "boete*", "verwijderd",
        "dichtgemaakt", "gesnoeid", "gemaaid", "geplaatst", "neergezet", "komen kijken",
        "gaan kijken", "gaat kijken", "onderzoek", "camerabeelden", "vrijgelaten",
        "veroordeeld", "in orde", "alles goed", "gaat goed met", "is thuis", "weer thuis",
        "ligt in het ziekenhuis", "was de", "was het", "niks aan de hand", "niets aan de hand",
        "loos", "achteraf", "inmiddels", "nu weg", "zijn weg", "vertrokken", "weggestuurd",
        "weggejaagd", "aanspreken", "aangesproken", "gesproken met", "heb gesproken",
        "contact gehad", "laat weten", "heeft laten weten", "teruggebracht", "terugbezorgd",
        "terecht gekomen",
    ),
    "kind_afspraak": (
        "afspraak", "afspraken", "afgesproken", "regel", "regels", "spelregels", "huisregel*",
        "groepsregel*", "saar", "eerst 112", "niet toegestaan", "mag niet", "graag niet",
        "geen foto*", "coördinator*", "coordinator*", "aanspreekpunt", "welkom", "nieuwe leden",
        "beheerder*", "werkwijze", "procedure", "altijd eerst", "nooit zelf", "nooit", "altijd",
        "rules", "admin", "vastgezet*", "vastgepind", "pinned", "indeling", "verdeling",
        "groep is bedoeld", "deze groep is", "in deze groep", "in de groep", "alleen meldingen",
        "geen reclame", "geen discussie", "geen memes", "privacy", "namen", "herinnering",
        "ter herinnering", "nogmaals", "bellen", "eerst bellen", "dan pas", "daarna pas", "app",
        "appen", "melden", "meld je", "graag", "aub", "svp", "verzoek", "afspreken",
        "afgesproken is", "zo afgesproken", "gemaakt afspraken", "taak", "taken",
        "verantwoordelijk", "contactpersoon", "straatcoördinator*", "wijkcoördinator*",
        "beheer", "gedragsregel*", "etiquette", "nieuwe buren", "voor de nieuwe",
    ),
    "kind_activiteit": (
        "schouw*", "vergadering*", "vergader*", "bijeenkomst*", "infoavond*",
        "informatieavond*", "training*", "cursus*", "workshop*", "avondronde*", "ronde",
        "rondes", "verzamelen", "aanmelden", "aangemeld", "opgeven", "ik kom", "kom ook",
        "ben erbij", "ik ben erbij", "doe mee", "ik doe mee", "loop mee", "kan niet",
        "kan helaas", "afmelden", "agenda", "uitnodiging*", "maandag", "dinsdag", "woensdag",
        "donderdag", "vrijdag", "zaterdag", "zondag", "volgende week", "meeting", "join",
        "i'll be there", "wie komt", "wie gaat", "wie doet mee", "doen mee", "gaat door",
        "gaat niet door", "afgelast", "verplaatst", "verzamel*", "tot dan", "tot straks",
        "zie jullie", "koffie", "buurthuis", "wijkcentrum", "aanwezig", "aanmeld*",
        "inschrijv*", "opgave", "deelnemers", "plekken", "datumprikker", "doodle", "kan ik",
        "kan ook", "lukt", "lukt niet", "lukt me", "helaas niet", "ben er", "ben ik er",
        "we lopen", "lopen we", "loopronde", "wandelen", "programma", "spreker", "presentatie",
        "uitnodig*", "zaal", "vanavond om", "morgenavond", "volgende keer", "wanneer is",
        "hoe laat", "regionale", "regiobijeenkomst", "netwerkavond", "cursusavond", "ehbo",
        "reanimatiecursus",
    ),
    "kind_idee": (
        "idee*", "voorstel*", "zullen we", "wat als we", "wat als", "wat denken jullie",
        "zouden we", "kunnen we", "misschien kunnen", "suggestie*", "lijkt het jullie",
        "lijkt me", "zou het", "wellicht", "waarom niet", "proposal", "suggest*", "what if",
        "maybe we", "shall we", "could we", "how about", "zou mooi zijn", "zou leuk zijn",
        "zou fijn zijn", "zou goed zijn", "zou handig zijn", "wat vinden jullie", "plan",
        "initiatief", "proberen", "uitproberen", "beginnen met", "starten met", "opzetten",
        "aanschaffen", "bordjes", "sticker*", "flyer*", "rooster maken", "ik stel voor",
        "stel voor", "hoe zou", "misschien", "mss", "moeten we niet", "kunnen we niet",
        "zouden we niet", "zou het een idee", "is het een idee", "het zou", "wat mij betreft",
        "ik zou", "zou ik", "brainstorm*", "verbeter*", "maybe", "we could", "we should",
        "what about", "would it",
    ),
    "kind_overig": (
        "goedemorgen", "goedemiddag", "goedenavond", "welterusten", "morgen allemaal",
        "bedankt", "dank", "dankje*", "dankjewel", "top", "super", "haha*", "hihi", "lol",
        "gefeliciteerd", "jarig", "verjaardag", "te koop", "te leen", "lenen", "kat", "poes",
        "kater", "hond", "weer", "recept*", "thanks", "thank you", "morning", "fijne",
        "fijn weekend", "prettige", "mooie", "regen", "zon", "zonnetje", "koud", "warm",
        "lekker", "wie heeft", "iemand een tip", "tip voor", "loodgieter", "hovenier", "oppas",
        "ladder", "aanhanger", "boormachine", "verkopen", "gratis", "af te halen",
        "marktplaats", "sorry", "excuses", "verkeerde groep", "verkeerde app", "oeps",
        "familie-app", "groetjes", "hoi", "hallo", "hey", "hee", "doei", "fijne dag", "klopt",
        "idd", "inderdaad", "precies", "eens", "mee eens", "goed zo", "prima", "oké", "oke",
        "ok", "ja", "nee", "ach", "jammer", "beterschap", "sterkte", "gecondoleerd",
        "welkom terug", "nice", "cool", "lovely",
    ),
    # --- urgency ------------------------------------------------------------------------------
    "urgent_now": (
        "nu", "nu!", "op dit moment", "net", "zojuist", "zo net", "momenteel", "bezig", "snel",
        "help", "hulp", "kom snel", "bel 112", "112 bellen", "ik bel 112", "112 gebeld",
        "bel de politie", "right now", "now", "call 112", "happening", "op heterdaad", "hier",
        "nu nog", "nog steeds bezig", "aan het", "ik zie", "ik hoor", "zie nu", "hoor nu",
        "er staat", "er ligt", "er loopt", "er zit", "staat nu", "zit nu", "loopt nu",
        "ligt nu", "is nu", "zijn nu", "nu bezig", "bezig met", "wie belt", "bel iemand",
        "ambulance nodig", "kan iemand", "wie kan", "kom naar", "kom even", "iemand thuis",
        "live", "on my way", "just now", "currently", "as we speak",
    ),
    "urgent_past": (
        "vannacht", "gisteren", "gisteravond", "vanochtend", "vanmorgen", "afgelopen",
        "vorige week", "vorige", "eerder", "laatst", "weken", "al weken", "steeds", "elke dag",
        "elke avond", "was", "waren", "last night", "yesterday", "vanmiddag", "vanavond vroeg",
        "vorige nacht", "afgelopen nacht", "weekend", "afgelopen weekend", "vorige maand",
        "al dagen", "sinds", "telkens", "vaker", "regelmatig", "elke nacht", "iedere avond",
        "vnacht", "gister", "earlier", "last week",
    ),
    # De-escalation: the person has gone, it is over, nobody is hurt, help is already there,
    # or the writer plays it down. Written from the labelling guidelines' urgency border.
    "urgent_calm": (
        "al weg", "is weg", "zijn weg", "weer weg", "liep weg", "liepen weg", "reed weg",
        "reden weg", "rende weg", "renden weg", "fietste weg", "fietsten weg", "ging er vandoor",
        "gingen er vandoor", "vandoor", "doorgereden", "reed door", "reed gewoon door",
        "ging weg", "gingen weg", "nu uit", "is uit", "al uit", "geblust", "niemand gewond",
        "niet gewond", "geen gewonden", "blikschade", "is ok", "is oké", "gaat goed",
        "ziet er ok uit", "lijkt ok", "lijkt oké", "reageert wel", "aanspreekbaar",
        "kwam weer bij", "weer bij bewustzijn", "niet binnen gelaten", "deur dichtgedaan",
        "deur dicht gedaan", "geen geweld", "alleen verbaal", "verder niks", "verder geen",
        "rustig", "viel mee", "valt mee", "gelukkig", "niks aan de hand", "zal wel",
        "wss niks", "waarschijnlijk niks", "misschien niks", "toch even melden", "ff melden",
        "even melden", "ter info", "fyi", "heads up", "no one hurt", "nobody hurt", "gone",
        "left", "drove off", "ran off", "is over", "is voorbij", "is er al", "zijn er al",
    ),
    "urgent_danger": (
        "bewusteloos", "gewond*", "bloed*", "mes", "messen", "wapen*", "pistool", "vecht*",
        "knokpartij", "slaan", "slaat", "overval*", "in het water", "te water", "verdrink*",
        "vlammen", "binnen", "klimt", "klimmen", "schreeuwt om hulp", "reageert niet", "ademt",
        "knife", "gun", "fight*", "injured", "unconscious", "reanim*", "aed", "ademt niet",
        "in elkaar gezakt", "flauwgevallen", "bloedt", "gegil", "hulpgeroep", "geslagen",
        "schoppen", "geschopt", "duwen", "achtervolgd", "gevolgd", "bedreigd", "drijft",
        "verdrinkt", "balkonrand", "springen", "bekneld", "beknelt", "over de kop", "geschept",
        "aangereden", "gewonden", "vlammen uit", "slaan uit", "rook uit", "gaslucht",
        "ruik gas", "inbreker*", "breekt", "inbreken", "glas breken", "gestommel", "overvallen",
        "beroofd", "gewapend", "klein kind", "peuter", "baby", "alleen langs de weg",
        "langs de weg", "not responding", "not breathing", "bleeding", "on fire",
    ),
}
# fmt: on


@dataclass
class _Node:
    children: dict[str, _Node] = field(default_factory=dict)
    # A pattern ends here: as a prefix (`word*`) and/or as a whole word.
    prefix: bool = False
    whole: bool = False


def _regex(node: _Node) -> str:
    # Longer continuations come first, so the longest pattern wins.
    options = [re.escape(char) + _regex(child) for char, child in sorted(node.children.items())]
    if node.prefix:
        options.append("")
    elif node.whole:
        options.append(r"(?!\w)")
    if len(options) == 1:
        return options[0]
    return "(?:" + "|".join(options) + ")"


class CueMatcher:
    """Finds the cue hits in a lower-case text with one trie-shaped regex (fast on any text)."""

    def __init__(self, cues: dict[str, tuple[str, ...]]) -> None:
        self.names: tuple[str, ...] = tuple(cues)
        self._prefix_of: dict[str, list[int]] = {}
        self._whole_of: dict[str, list[int]] = {}
        root = _Node()
        for index, patterns in enumerate(cues.values()):
            for pattern in patterns:
                core = pattern.rstrip("*")
                table = self._prefix_of if pattern.endswith("*") else self._whole_of
                indices = table.setdefault(core, [])
                if index not in indices:
                    indices.append(index)
                node = root
                for char in core:
                    node = node.children.setdefault(char, _Node())
                if pattern.endswith("*"):
                    node.prefix = True
                else:
                    node.whole = True
        self._pattern = re.compile(r"(?<!\w)" + _regex(root))

    def hits(self, text: str) -> list[int]:
        """Indices (into `names`) of every cue hit in `text`, one entry per hit."""
        found: list[int] = []
        for match in self._pattern.finditer(text):
            core = match.group()
            found.extend(self._prefix_of.get(core, ()))
            end = match.end()
            if end == len(text) or not (text[end].isalnum() or text[end] == "_"):
                found.extend(self._whole_of.get(core, ()))
        return found
