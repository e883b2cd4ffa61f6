"""Clear-cut messages, written for this test (not taken from the corpus), get the obvious label."""

from __future__ import annotations

import pytest

from nlp.classifier import Classifier

KIND_EXAMPLES = {
    "signaal": [
        "Er loopt al een kwartier een man langs de voordeuren in de Spechtstraat te kijken",
        "Vannacht is er ingebroken in de garage van nr 14, het slot is eruit getrokken",
        "De lantaarnpaal op de hoek van het Zwanenpad brandt al dagen niet meer",
    ],
    "terugkoppeling": [
        "Update: de politie is langs geweest en heeft de twee jongens aangehouden",
        "De gemeente heeft de kapotte straatlamp vandaag vervangen, het pad is weer verlicht",
        "Loos alarm trouwens, het was de zoon van de buren die zijn sleutel kwijt was",
    ],
    "afspraak": [
        "Ter herinnering voor iedereen: bij spoed eerst 112 bellen, pas daarna hier melden",
        "Afspraak in deze groep: geen foto's van mensen of kinderen plaatsen",
        "Welkom nieuwe leden! Lees even de spelregels in het vastgezette bericht",
    ],
    "activiteit": [
        "Dinsdagavond om 20:00 schouw met de wijkagent, we verzamelen bij het buurthuis",
        "Ik ben erbij donderdag!",
        "Wie gaat er mee naar de informatieavond over woninginbraak in het wijkcentrum?",
    ],
    "idee": [
        "Idee: zullen we een vast rooster maken voor de avondrondes in de winter?",
        "Wat als we stickers maken voor op de brievenbus, zodat inbrekers zien dat we opletten?",
        "Misschien kunnen we de gemeente vragen om een extra bankje met lamp bij het speelveld?",
    ],
    "overig": [
        "Goedemorgen allemaal, fijne dag!",
        "Haha top, dank je wel",
        "Heeft iemand een aanhanger te leen voor zaterdag?",
    ],
}

CATEGORY_EXAMPLES = {
    "inbraak": [
        "Bij de buren is de achterdeur opengebroken, er zijn overal braaksporen",
        "Ingebroken in de schuur van nr 8, hangslot doorgeknipt en de gereedschapskist is weg",
    ],
    "diefstal": [
        "Mijn fiets is vanmiddag gestolen bij het station, hij stond gewoon op slot",
        "Er is vanochtend een pakketje van onze stoep meegenomen",
    ],
    "verdacht": [
        "Verdachte man probeert bij alle auto's in de straat de portieren open te trekken",
        "Er rijdt al een uur een donkere bestelbus langzaam rondjes door de wijk",
    ],
    "oplichting": [
        "Pas op: er gaan nep-sms'jes rond van de bank met een link om je pas te vervangen",
        "Twee mannen bellen aan die zich uitgeven als monteur van het energiebedrijf, babbeltruc!",
    ],
    "vandalisme": [
        "Alle spiegels van de geparkeerde auto's aan de Eikenlaan zijn vannacht eraf getrapt",
        "Het nieuwe speeltoestel is helemaal beklad met graffiti en de schommel is vernield",
    ],
    "overlast": [
        "Elke avond hangt er een groep jongeren bij het winkelcentrum met harde muziek en lachgas",
        "Het is weer tot drie uur 's nachts herrie en geschreeuw van het feest op nr 22",
    ],
    "verkeer": [
        "Er wordt echt veel te hard gereden in de 30-zone voor de school, levensgevaarlijk",
        "Weer auto's geparkeerd op de stoep bij de oversteekplaats, kinderen kunnen er niet langs",
    ],
    "brand": [
        "Er komt dikke rook uit het dak van de loods aan de Industrieweg",
        "Sterke gaslucht in het trappenhuis van flat B",
    ],
    "zorg": [
        "Er loopt een verwarde oudere meneer in zijn pyjama over straat, hij weet niet waar hij woont",
        "Klein meisje huilend alleen bij de speeltuin, ze is haar ouders kwijt",
    ],
    "openbare_ruimte": [
        "Er liggen losse stoeptegels bij de ingang van de supermarkt, iemand is al gestruikeld",
        "Iemand heeft een berg vuilniszakken en een oude bank gedumpt naast de container",
    ],
}

URGENT_EXAMPLES = [
    "Er zijn NU twee mannen bij nr 7 binnen, de bewoners zijn op vakantie!! Bel 112",
    "Brand!!! Vlammen slaan uit de keuken van de bovenwoning, bel de brandweer",
    "Man ligt bewusteloos op de stoep bij de bushalte, ademt nauwelijks, ambulance nodig NU",
]

NOT_URGENT_SIGNALS = [
    "Vorige week is er bij nr 30 ingebroken via de achterdeur, let goed op je sloten",
    "De lantaarnpaal bij het fietspad doet het al een maand niet",
    "Pas op voor nep-sms'jes van de bank die rondgaan",
]


def cases(examples: dict[str, list[str]]) -> list[tuple[str, str]]:
    return [(label, text) for label, texts in examples.items() for text in texts]


@pytest.mark.parametrize(("kind", "text"), cases(KIND_EXAMPLES))
def test_clear_cut_kind(classifier: Classifier, kind: str, text: str) -> None:
    assert classifier.classify(text).kind == kind


@pytest.mark.parametrize(("category", "text"), cases(CATEGORY_EXAMPLES))
def test_clear_cut_category(classifier: Classifier, category: str, text: str) -> None:
    result = classifier.classify(text)
    assert (result.kind, result.category) == ("signaal", category)


@pytest.mark.parametrize("text", URGENT_EXAMPLES)
def test_emergency_happening_now_is_urgent(classifier: Classifier, text: str) -> None:
    result = classifier.classify(text)
    assert result.kind == "signaal"
    assert result.urgent


@pytest.mark.parametrize("text", NOT_URGENT_SIGNALS)
def test_past_or_standing_problem_is_not_urgent(classifier: Classifier, text: str) -> None:
    result = classifier.classify(text)
    assert result.kind == "signaal"
    assert not result.urgent


def test_only_a_signal_can_be_urgent(classifier: Classifier) -> None:
    results = classifier.classify_batch(
        [text for texts in KIND_EXAMPLES.values() for text in texts] + URGENT_EXAMPLES
    )
    assert all(r.kind == "signaal" for r in results if r.urgent)
