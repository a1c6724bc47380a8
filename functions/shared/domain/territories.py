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
