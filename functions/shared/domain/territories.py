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
    **dict.fromkeys(("GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF"), "FR"),  # French postcodes
    "BQ": "NL",  # the Caribbean Netherlands
    "AX": "FI",  # Åland: Finnish postcodes
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
}

# The territories a state's postal code names by its first digits: France's overseas departments
# and collectivities (97x), whose addresses are written FR (`Saint-Denis 97400`, Réunion's)
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
    },
}


def postal_territory(country: str, postal_code: str | None) -> str | None:
    """The territory an address of `country` is in by its postal code, if its code says so."""
    prefixes = POSTAL_PREFIXES.get(country)
    if not prefixes or not postal_code:
        return None
    return prefixes.get("".join(postal_code.split())[:3])
