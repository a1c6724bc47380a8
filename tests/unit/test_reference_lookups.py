"""The reference look-ups' fast paths answer exactly what the libraries' own entry points answer."""

from __future__ import annotations

import ipaddress
import random

from functions.score.reference import EmbeddedReferenceData
from functions.shared.domain.identity import email_domain
from functions.shared.inputs import canonical_ip as _ip


def _addresses() -> list[str]:
    rng = random.Random(15)
    found = [str(ipaddress.IPv4Address(rng.getrandbits(32))) for _ in range(3000)]
    # every edge of the networks Python does not call global, and the listed ranges
    for network in ("0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
                    "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15",
                    "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4"):  # fmt: skip
        net = ipaddress.ip_network(network)
        for edge in (int(net.network_address) - 1, int(net.network_address), int(net.broadcast_address),
                     int(net.broadcast_address) + 1):  # fmt: skip
            found.append(str(ipaddress.IPv4Address(edge % 2**32)))
    found += ["192.0.0.9", "192.0.0.170", "255.255.255.255", "1.1.1.1", "8.8.8.8", "81.2.69.160"]
    return found


def test_ip_facts_of_ipv4_addresses_are_those_of_the_libraries() -> None:
    reference = EmbeddedReferenceData()
    for address in _addresses():
        assert reference.ip(address) == reference.ip_by_objects(address), address


def test_ipv6_and_listed_ranges_keep_their_answers() -> None:
    reference = EmbeddedReferenceData()
    assert reference.ip("2001:db8::1") == reference.ip_by_objects("2001:db8::1")
    assert reference.ip("203.0.113.9").listed
    assert not reference.ip("81.2.69.160").listed


def test_ipv6_clients_have_their_countries() -> None:
    """A client on IPv6 is placed as one on IPv4 is (the country checks of SPEC 5.1 apply to it);
    documentation, loopback and link-local addresses are in no country."""
    reference = EmbeddedReferenceData()
    placed = {
        "2a00:1450:4009:81f::200e": "GB",  # Google, London
        "2a01:e0a:1::1": "FR",  # Free, France
        "240e:1::1": "CN",  # China Telecom
        "2001:4860:4860::8888": "US",  # Google Public DNS
    }
    for address, country in placed.items():
        assert reference.ip(address).country == country, address
    for nowhere in ("2001:db8::1", "::1", "fe80::1"):
        assert reference.ip(nowhere).country is None, nowhere
    # the IPv4 answers are those of the IPv4-only file (sampled: `_addresses`, both paths agree above)
    assert reference.ip("81.2.69.160").country == "GB" and reference.ip("1.1.1.1").country is not None


def test_suspicious_domains_by_label_are_those_of_the_list() -> None:
    reference = EmbeddedReferenceData()
    rng = random.Random(3)
    parts = ["example", "xyz", "top", "co", "uk", "mail", "topx", "x", "", "click", "icu"]
    domains = [".".join(rng.choice(parts) for _ in range(rng.randint(1, 4))) for _ in range(3000)]
    domains += ["a.xyz", "axyz", "xyz", ".xyz", "a..top", "top.com"]
    for domain in domains:
        assert reference.suspicious_domain(domain) == reference.suspicious_domain_by_scan(domain), domain
    assert reference.suspicious_domain("mail.example.xyz")
    assert not reference.suspicious_domain("example.com")


def test_operator_domains_name_a_domain_and_its_subdomains(tmp_path) -> None:  # noqa: ANN001
    listed = tmp_path / "suspicious.txt"
    listed.write_text("bad.example  # a domain\n.zz\n")
    reference = EmbeddedReferenceData({"SUSPICIOUS_DOMAINS_FILE": str(listed)})
    for domain in ("bad.example", "x.bad.example", "notbad.example", "a.zz", "zz", "b.xyz"):
        assert reference.suspicious_domain(domain) == reference.suspicious_domain_by_scan(domain), domain
    assert reference.suspicious_domain("x.bad.example") and not reference.suspicious_domain("notbad.example")


def test_an_ip_field_reads_back_in_its_canonical_form() -> None:
    assert _ip("81.2.69.160") == "81.2.69.160"
    assert _ip("2001:DB8::0:1") == "2001:db8::1"
    # an IPv4 client as a dual-stack server reports it is that IPv4 address (linked, located, judged)
    assert _ip("::ffff:81.2.69.160") == _ip("::FFFF:5102:45A0") == "81.2.69.160"
    assert _ip("64:ff9b::5102:45a0") == "64:ff9b::5102:45a0"  # NAT64 is another network's address
    for bad in ("01.2.3.4", "1.2.3", " 1.2.3.4", "1.2.3.4\x00", "256.1.1.1"):
        try:
            _ip(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} accepted")


def test_the_datasets_are_left_out_of_the_collectors_walks() -> None:
    """Loaded once for the process's life, they go to the permanent generation (`gc.freeze`): a full
    collection would otherwise walk their millions of entries again (100 ms and more each time)."""
    import gc

    from functions.score import reference as module

    reference = EmbeddedReferenceData()
    reference.ip("81.2.69.160"), reference.disposable("example.com"), reference.place("GB", "London")
    datasets = [module._iporigin_dataset(), module._geoip(), module._disposable_domains()]
    datasets.append(module._gazetteer())
    walked = {id(o) for o in gc.get_objects()}  # every generation the collector walks
    assert gc.get_freeze_count() > 0
    assert not [d for d in datasets if id(d) in walked]


def test_a_disposable_domain_is_disposable_under_any_subdomain_and_nothing_above_it_is() -> None:
    reference = EmbeddedReferenceData()
    assert reference.disposable("mailinator.com") and reference.disposable("x.y.mailinator.com")
    assert not reference.disposable("com") and not reference.disposable("mailinator.com.example.org")
    assert not reference.disposable("gmail.com") and not reference.disposable("mail.gmail.com")


def test_a_disposable_domain_listed_in_idnas_ascii_form_is_found_as_it_reads() -> None:
    """Lists name international domains as `xn--`; addresses are keyed as they read (`灵.cc`)."""
    reference = EmbeddedReferenceData()
    assert reference.disposable("xn--5nx.cc")  # listed so
    assert reference.disposable("\u7075.cc") and reference.disposable("x.\u7075.cc")
    assert reference.disposable(email_domain("ab@xn--5nx.cc"))
    assert not reference.disposable("\u4f60\u597d.cc")
