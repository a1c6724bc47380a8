"""Countries that are one to detection though ISO 3166 gives them two codes (SPEC 5.1
`ip_country_mismatch`): a territory and the state whose addresses it uses. An IP database places a
connection in Puerto Rico in `PR`; an American system writes the household's address as `US`
(region `PR`), a French one a home in Réunion as `FR`. Taken as two countries, every session of
such a partner was `ip_country_mismatch`, and its first unusual session a new country."""

from __future__ import annotations

# a territory's code -> the code of the state whose addresses and postal system it shares
TERRITORIES = {
    **dict.fromkeys(("PR", "GU", "VI", "AS", "MP", "UM"), "US"),  # postal codes and states of the US
    **dict.fromkeys(("GG", "JE", "IM"), "GB"),  # the Crown Dependencies: British postcodes
    # French postcodes: the overseas departments and collectivities, New Caledonia, French Polynesia,
    # Wallis and Futuna
    **dict.fromkeys(("GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF", "NC", "PF", "WF"), "FR"),
    "BQ": "NL",  # the Caribbean Netherlands
    "AX": "FI",  # Åland: Finnish postcodes
    **dict.fromkeys(("FO", "GL"), "DK"),  # the Faroe Islands and Greenland: the Danish realm's post
    **dict.fromkeys(("CX", "CC", "NF"), "AU"),  # Christmas, Cocos and Norfolk Islands: Australian postcodes
    "SJ": "NO",  # Svalbard and Jan Mayen: Norwegian postcodes
}


def same_country(one: str, other: str) -> bool:
    """Whether two country codes name one country to detection: equal, or a territory and its
    state (`TERRITORIES`)."""
    return one == other or TERRITORIES.get(one) == other or TERRITORIES.get(other) == one


# The names an address's region gives a territory by, beside its code (`reference._territory`)
TERRITORY_NAMES = {
    "PR": ("Puerto Rico",),
    "VI": ("Virgin Islands", "U.S. Virgin Islands", "US Virgin Islands"),
    "GU": ("Guam",),
    "AS": ("American Samoa",),
    "MP": ("Northern Mariana Islands",),
    "GG": ("Guernsey",),
    "JE": ("Jersey",),
    "IM": ("Isle of Man",),
    "GP": ("Guadeloupe",),
    "MQ": ("Martinique",),
    "GF": ("French Guiana", "Guyane"),
    "RE": ("Réunion", "La Réunion"),
    "YT": ("Mayotte",),
    "PM": ("Saint Pierre and Miquelon", "Saint-Pierre-et-Miquelon"),
    "BL": ("Saint Barthélemy", "Saint-Barthélemy"),
    "MF": ("Saint Martin", "Saint-Martin"),
    "BQ": ("Bonaire", "Caribbean Netherlands"),
    "AX": ("Åland", "Aland"),
    "NC": ("New Caledonia", "Nouvelle-Calédonie"),
    "PF": ("French Polynesia", "Polynésie française", "Polynesie francaise"),
    "WF": ("Wallis and Futuna", "Wallis-et-Futuna"),
    "FO": ("Faroe Islands", "Faroes", "Føroyar", "Færøerne"),
    "GL": ("Greenland", "Kalaallit Nunaat", "Grønland"),
    "CX": ("Christmas Island",),
    "CC": ("Cocos (Keeling) Islands", "Cocos Islands", "Keeling Islands"),
    "NF": ("Norfolk Island",),
    "SJ": ("Svalbard", "Svalbard and Jan Mayen", "Jan Mayen"),
}

# The territories a state's postal code names by its first characters, where an address there is
# written with the state's code: France's overseas departments and collectivities (97x, 98x:
# `Saint-Denis 97400`, Réunion's; `Nouméa 98800`), Greenland's 39xx and the Faroes' `FO-100` in the
# Danish system, Australia's Christmas (6798), Cocos (6799) and Norfolk Islands (2899), Norway's
# Svalbard (917x) and Jan Mayen (8099)
POSTAL_PREFIXES = {
    "FR": {
        "971": "GP",
        "972": "MQ",
        "973": "GF",
        "974": "RE",
        "975": "PM",
        "976": "YT",
        "977": "BL",
        "978": "MF",
        "986": "WF",
        "987": "PF",
        "988": "NC",
    },
    "DK": {"39": "GL", "FO": "FO"},
    "AU": {"6798": "CX", "6799": "CC", "2899": "NF"},
    "NO": {"917": "SJ", "8099": "SJ"},
}


def postal_territory(country: str, postal_code: str | None) -> str | None:
    """The territory an address of `country` is in by its postal code, if its code says so."""
    prefixes = POSTAL_PREFIXES.get(country)
    if not prefixes or not postal_code:
        return None
    code = "".join(postal_code.split()).upper()
    return next((territory for prefix, territory in prefixes.items() if code.startswith(prefix)), None)


# A United States address of the armed forces abroad (APO, FPO, DPO), by its region (Armed Forces
# Americas, Europe, Pacific, by code or name), its city, or its ZIP code (AA 340xx, AE 09xxx, AP
# 962xx to 966xx). Its household connects from the country it serves in, not the US.
MILITARY_REGIONS = frozenset(
    {"AA", "AE", "AP", "ARMED FORCES AMERICAS", "ARMED FORCES EUROPE", "ARMED FORCES PACIFIC"}
)
MILITARY_CITIES = frozenset({"APO", "FPO", "DPO"})
MILITARY_ZIPS = ("09", "340", "962", "963", "964", "965", "966")


def served_abroad(country: str | None, region: str | None, city: str | None, postal_code: str | None) -> bool:
    """Whether an address is one of the US armed forces abroad (`MILITARY_REGIONS`, `MILITARY_CITIES`,
    `MILITARY_ZIPS`): an IP in any country is no mismatch with it (an integration tester's: an APO AE
    household in Germany was `ip_country_mismatch`, and with ordinary household signals flagged)."""
    if country != "US":
        return False
    words = " ".join((region or "").upper().split())
    zip_code = "".join((postal_code or "").split())
    return (
        words in MILITARY_REGIONS
        or (city or "").strip().upper() in MILITARY_CITIES
        or (len(zip_code) >= 5 and zip_code[:5].isdigit() and zip_code.startswith(MILITARY_ZIPS))
    )
