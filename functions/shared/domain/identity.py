"""Identity keys: the normalized forms under which partners and customers are linked.

Each key is a direct lookup ("who else used this device / address / e-mail"), never a search."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from functions.shared.invisible import unshown

# Providers that ignore characters of the local part (Google its dots; Proton its dots, underscores
# and hyphens: `jane.doe`, `jane_doe` and `janedoe` are one Proton account), and those whose +tag an
# address's key dropped before 2026-12-05 (`_mailbox`'s `earlier`; since, a tag at any domain).
_IGNORED_IN_LOCAL = {"gmail.com": re.compile(r"\."), "proton.me": re.compile(r"[._-]")}
_PLUS_TAGS = frozenset(
    {
        "gmail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "icloud.com",
        "me.com",
        "fastmail.com",
        "proton.me",
        "protonmail.com",
        "yahoo.com",
        "zoho.com",
        "yandex.ru",
    }
)
# Domains that deliver to one mailbox under one name: the same account at each (Google's googlemail,
# Apple's me.com and mac.com for iCloud, Proton's pm.me and older names, Yandex's national domains).
_DOMAIN_ALIASES = {
    "googlemail.com": "gmail.com",
    "me.com": "icloud.com",
    "mac.com": "icloud.com",
    "pm.me": "proton.me",
    "protonmail.com": "proton.me",
    "protonmail.ch": "proton.me",
    "ya.ru": "yandex.ru",
    "yandex.com": "yandex.ru",
    "yandex.by": "yandex.ru",
    "yandex.kz": "yandex.ru",
    "yandex.ua": "yandex.ru",
}
# Fastmail's domains, its own names and the older ones its users keep (`fastmail.fm` was its first):
# at every one of them a +tag is dropped, and an address at a user's subdomain is the user's
# (`shop@jane.sent.com` is delivered as `jane+shop@sent.com`: `_fastmail_user`)
_FASTMAIL = frozenset(
    """
    fastmail.com fastmail.fm fastmail.cn fastmail.co.uk fastmail.com.au fastmail.de fastmail.es
    fastmail.fr fastmail.im fastmail.in fastmail.jp fastmail.mx fastmail.net fastmail.nl fastmail.org
    fastmail.se fastmail.to fastmail.tw fastmail.uk fastmail.us f-m.fm fea.st fmail.co.uk myfastmail.com
    messagingengine.com sent.com sent.as sent.at ftml.net eml.cc mm.st ml1.net 123mail.org airpost.net
    allmail.net bestmail.us cluemail.com elitemail.org emailcorner.net emailengine.net emailengine.org
    emailgroups.net emailplus.org emailuser.net fast-email.com fast-mail.org fastem.com fastemail.us
    fastemailer.com fastest.cc fastimap.com fastmailbox.net fastmessaging.com fmailbox.com fmgirl.com
    fmguy.com h-mail.us hailmail.net imap-mail.com imap.cc imapmail.org inoutbox.com internet-e-mail.com
    internet-mail.org internetemails.net internetmailing.net jetemail.net justemail.net letterboxes.org
    mail-central.com mail-page.com mailandftp.com mailas.com mailbolt.com mailc.net mailcan.com
    mailforce.net mailftp.com mailhaven.com mailingaddress.org mailite.com mailmight.com mailnew.com
    mailsent.net mailservice.ms mailup.net mailworks.org mymacmail.com nospammail.net ownmail.net
    petml.com postinbox.com postpro.net proinbox.com promessage.com realemail.net reallyfast.biz
    reallyfast.info rushpost.com speedpost.net speedymail.org ssl-mail.com swift-mail.com
    the-fastest.net the-quickest.com theinternetemail.com veryfast.biz veryspeedy.net warpmail.net
    xsmail.com yepmail.net your-mail.com
    """.split()  # noqa: SIM905 (a list of words, read as one)
)
_SUBDOMAIN_USER = re.compile(r"[a-z0-9][a-z0-9-]*")
_SEPARATORS = re.compile(r"[._\-+]")
_TRAILING_DIGITS = re.compile(r"\d+$")
_NOT_ASCII_ALNUM = re.compile(r"[^a-z0-9]")


@dataclass(frozen=True)
class EmailKeys:
    normalized: str  # the address as the provider delivers it: email_duplicate
    # local part without separators and trailing digits, any domain: near duplicates, and the same
    # local part at another provider (a shared local part is a shared skeleton; issue 15's seventh
    # round dropped the `email_local` key, which named a subset of the skeleton's members)
    skeleton: str
    # its key before 2026-12-05, when that differs (`_mailbox`'s `earlier`): links written then
    # are under it, and scoring reads them too (`Engine._identity`)
    before: str | None = None


# control characters (C0, DEL, C1): what an address was read without before 2026-12-05, besides
# format characters (`_as_read`'s `earlier`); since, without anything that shows nothing (`unshown`)
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")


def normalize_email(address: str) -> str:
    return _mailbox(address)


def _mailbox(address: str, earlier: bool = False) -> str:
    """An address as its mailbox: read without what shows nothing (`unshown`: no mailbox is named
    with a control character, a zero-width space or a Hangul filler, and `mal@gmail.com\x00` is
    `mal@gmail.com`), as a person reads it (`_as_read`), without what its provider ignores.
    A `+tag` is dropped at every domain, as `untagged` reads a partner's own address.
    `earlier`: the key as it was before 2026-12-05 (a plus tag dropped only at the `.com` domains
    of `_PLUS_TAGS`, no provider's characters but Gmail's dots; controls and format characters
    alone dropped, a letter of Latin script as written, a capital dotted `İ` an `i` with its dot)."""
    address = _CONTROLS.sub("", address) if earlier else unshown(address)
    if address.isascii() and "xn--" in address.lower():
        address = _punycode_read(address)
    read = address if address.isascii() else _as_read(address, earlier)
    if not earlier and "(" in read:
        read = _without_comments(read)
    local, _, domain = read.strip().lower().rpartition("@")
    if len(local) >= 2 and local[0] == local[-1] == '"':
        # a quoted local part names the mailbox its characters name (RFC 5321 4.1.2): `"john"` is
        # `john`, and `"j\ohn"` too; a form few send except to be another address
        local = re.sub(r"\\(.)", r"\1", local[1:-1])
    domain = domain.rstrip(".")  # `example.com.`, fully qualified, is `example.com`
    domain = _DOMAIN_ALIASES.get(domain, domain)
    if not earlier:
        local, domain = _fastmail_user(local, domain)
    if not earlier or domain in _PLUS_TAGS:
        # a `+tag` at any domain: custom domains' mail hosts (Google Workspace, Microsoft 365,
        # Postfix's usual delimiter) deliver `kai+again@brandtmedia.de` to `kai@brandtmedia.de`
        local = _without_tag(local)
    if (ignored := _IGNORED_IN_LOCAL.get(domain)) and (not earlier or domain == "gmail.com"):
        local = ignored.sub("", local) or local
    if domain == "yandex.ru" and not earlier:
        local = local.replace(".", "-")  # one Yandex login: `john.smith` and `john-smith` alike
    return f"{local}@{domain}"


def _without_comments(address: str) -> str:
    """An address without its comments (RFC 5322 3.2.2: text in parentheses, nested or not, before
    or after its local part or domain), outside a quoted string: `jane.doe(promo)@gmail.com` and
    `(x)jane.doe@gmail.com` are delivered to `jane.doe@gmail.com`, and a mail library reads them
    so (an evasion tester's: a removed partner back under its own address with a comment was
    `allow 0`, and paid into it). An unbalanced parenthesis is no comment: the address as written."""
    kept: list[str] = []
    depth, quoted, escaped = 0, False, False
    for c in address:
        if escaped:
            escaped = False
            if depth == 0:
                kept.append(c)
        elif c == "\\" and (quoted or depth):
            escaped = True
            if depth == 0:
                kept.append(c)
        elif depth == 0 and c == '"':
            quoted = not quoted
            kept.append(c)
        elif not quoted and c == "(":
            depth += 1
        elif not quoted and c == ")" and depth:
            depth -= 1
        elif depth == 0:
            kept.append(c)
    return address if depth or quoted else "".join(kept)


def _fastmail_user(local: str, domain: str) -> tuple[str, str]:
    """Fastmail's subdomain addressing: `shop@john.fastmail.fm` is delivered to `john@fastmail.fm`,
    at the domain it was written at (a user of `fastmail.fm` is not one of `fastmail.com`)."""
    user, _, parent = domain.partition(".")
    if parent in _FASTMAIL and _SUBDOMAIN_USER.fullmatch(user):
        return user, parent
    return local, domain


# IDNA's full stops (RFC 3490): a domain written with them is the domain written with "."
_FULL_STOPS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})


@lru_cache(maxsize=4096)
def _as_read(address: str, earlier: bool = False) -> str:
    """An address with characters beyond ASCII as a person reads it, so that a look-alike of an
    address is that address: what shows nothing dropped (`unshown`: zero-width spaces and joiners,
    soft hyphens, the combining grapheme joiner, variation selectors, Hangul fillers, every
    default-ignorable code point), compatibility forms folded (fullwidth `ａ`, ligatures: NFKC) and
    IDNA's full stops taken for dots, case folded, and each letter that only imitates an ASCII one
    taken for it (`_latin_lookalike`: a Cyrillic `а`, a Greek `ο`, a script `ɡ`, a dotless `ı`, a
    small capital `ᴏ`). A letter with no such look-alike (`é`, `ж`) stays itself. (A payout account
    reads its digits first: `ascii_digits`.)
    `earlier`: as before 2026-12-05, format characters alone dropped (category Cf), and a letter of
    Latin script as written."""
    if earlier:
        text = unicodedata.normalize("NFKC", address).translate(_FULL_STOPS)
        text = "".join(c for c in text if unicodedata.category(c) != "Cf")
    else:  # dropped first: a mark between a letter and its accent kept them apart in NFKC
        text = unicodedata.normalize("NFKC", unshown(address)).translate(_FULL_STOPS)
    folded = text.casefold()
    if not earlier:  # a capital dotted `İ` folds to `i` and a combining dot above: an `i`, as read
        folded = folded.replace("i\u0307", "i")
    return "".join(c if c.isascii() else _latin_lookalike(c, not earlier) for c in folded)


def ascii_digits(text: str) -> str:
    """A payout account's digits of any script as ASCII digits (Unicode's category Nd: Arabic-Indic
    `٠١٢`, Persian `۰۱۲`, Devanagari `०१२`, Bengali, Thai...): a phone's keyboard in Arabic or Hindi
    types an account number in its own digits, and a bank reads `٠٠٣٥٠٤٢٧٣٦` as the account
    `0035042736`. Read before the look-alike letters (which took a Devanagari `०` for `o`). Only
    accounts: an e-mail address in other digits is another mailbox to its provider, a device's id is
    what its SDK sent, and their keys stay those stored before."""
    if text.isascii():
        return text
    return "".join(str(digit) if (digit := unicodedata.decimal(c, None)) is not None else c for c in text)


def as_read(text: str) -> str:
    """Any text as a person reads it (`_as_read`): `Ѕуѕtem`, `SYSTEM` and `system` are one name."""
    return text.casefold() if text.isascii() else _as_read(text)


@lru_cache(maxsize=4096)
def _punycode_read(address: str) -> str:
    """An address whose domain is written in IDNA's ASCII form (`xn--gmil-63d.com`, what a browser's
    e-mail field sends) with that domain as it is read (`gmаil.com`, a Cyrillic `а`), so that both
    forms of a domain, and a look-alike written either way, are one address. A domain that is not
    valid IDNA stays as written."""
    local, at, domain = address.strip().rpartition("@")
    try:
        return local + at + domain.lower().encode("ascii").decode("idna")
    except UnicodeError:
        return address


@lru_cache(maxsize=2048)
def _latin_lookalike(character: str, latin_script: bool = True) -> str:
    """The ASCII letters a character imitates, when Unicode's confusables (UTS #39, the
    `confusable-homoglyphs` table) give it a look-alike of Latin script: a Cyrillic `а` is `a`, and
    so is a letter of Latin script beyond ASCII (a script `ɡ` is `g`, a dotless `ı` and a Latin iota
    `ɩ` are `i`, a small capital `ᴏ` is `o`, a dental click `ǀ` is `l`); one that imitates a digit
    alone (a Cyrillic `б`, `6`) or nothing of ASCII (`é`, `ȷ`) stays itself. Not `latin_script`
    (an address's key before 2026-12-05; names, `normalize_name`): a letter of Latin script stays
    itself too."""
    from confusable_homoglyphs import (
        categories,
        confusables,
    )  # its table (0.9 MB) loads with the first such letter

    if not latin_script and categories.alias(character) == "LATIN":
        return character
    homoglyphs = confusables.confusables_data.get(character, ())
    if any(categories.alias(c) == "LATIN" for lookalike in homoglyphs for c in lookalike["c"]):
        for lookalike in homoglyphs:
            if lookalike["c"].isascii() and lookalike["c"].isalnum():
                return str(lookalike["c"]).lower()
    return character


@lru_cache(maxsize=65536)  # an address comes back with its subject's every event; the keys are frozen
def email_keys(address: str) -> EmailKeys:
    normalized = normalize_email(address)
    local = normalized.rpartition("@")[0]
    before = _mailbox(address, earlier=True)
    return EmailKeys(normalized, f"{_bare(local)}@*", before if before != normalized else None)


def _bare(local: str) -> str:
    """The local part without separators and trailing digits (`jane.doe+x`, `jane_doe42`: `janedoe`)."""
    return _TRAILING_DIGITS.sub("", _SEPARATORS.sub("", local.split("+", 1)[0])) or local


# The first octets of every IPv4 network Python's `is_global` excludes (private, shared, loopback,
# link-local, documentation, benchmarking, reserved, broadcast): outside them an address is global
# without asking `ipaddress` (which tests it against each network in turn).
SPECIAL_V4_FIRST_OCTETS = frozenset({0, 10, 100, 127, 169, 172, 192, 198, 203, *range(224, 256)})


@lru_cache(maxsize=65536)
def public_ip(ip: str) -> bool:
    """Whether an address (in its canonical form) can be a client's as the internet sees it: not
    private, loopback, link-local, carrier-grade NAT (100.64.0.0/10), documentation or otherwise
    reserved."""
    if ":" not in ip and int(ip.partition(".")[0]) not in SPECIAL_V4_FIRST_OCTETS:
        return True
    return ipaddress.ip_address(ip).is_global


IPV6_LINKED_PREFIX = 64


@lru_cache(maxsize=65536)
def ip_key(ip: str) -> str:
    """The key an IP address is linked and counted under (links, velocity, self-referral): an IPv4
    address itself, which a household or an office shares behind its router; an IPv6 address its
    /64 network, what one subscriber line or host is given, inside which a device takes a new
    address whenever it likes (privacy extensions, RFC 8981). Keyed by the whole address, a burst
    of sign-ups from one line was a new IP each time: no velocity, no shared IP, no cluster."""
    if ":" not in ip:
        return ip
    return str(ipaddress.IPv6Network((ip, IPV6_LINKED_PREFIX), strict=False))


class PayoutKey(str):
    """An event's payout account by its key (`payout_key`), and by its key before 2026-12-07 when
    that differs (`before`): a wallet with its ticker or label, a payment handle's link and any
    other link were keyed with all their letters then (`BTC: bc1q...` as `BTCBC1Q...`,
    `https://cash.app/$RingBoss` as `HTTPSCASHAPPRINGBOSS`), and the links, blocks and profiles
    written then are under those keys. Read too, never written, as an address's (`EmailKeys.before`):
    a partner removed then, back with its account written as then, is found, and one sending its
    account as then changes nothing (`same_payout_account`)."""

    before: str | None = None


def payout_keys(account: str) -> PayoutKey:
    """`payout_key`, with the key the account had before 2026-12-07 when that differs."""
    key = PayoutKey(payout_key(account))
    if (earlier := payout_key(account, earlier=True)) != key:
        key.before = earlier
    return key


def payout_key(account: str, earlier: bool = False) -> str:
    """A payout account as one key however it is written: an e-mail address (a PayPal account) as
    addresses are keyed; anything else (an IBAN, an account number, a wallet) by its letters and
    digits alone, as a person reads them (`as_read`: compatibility forms folded, what shows nothing
    dropped, a Hangul filler or a combining grapheme joiner too, look-alike letters taken for the
    Latin ones: `NL91 АBNA...` with a Cyrillic `А`, digits of any script for ASCII ones:
    `AE٠٧ ٠٣٣١...` typed on an Arabic keyboard is `AE07 0331...`), blanks, punctuation and symbols dropped, in
    capitals (`gb29 nwbk-6016...` and `GB29/NWBK_6016...` are `GB29NWBK6016...`), an IBAN without
    the label its printed form carries (`IBAN GB29 ...`), and
    an account of digits alone without the zeros it may be padded with (`0035042736` is `35042736`);
    an IBAN is linked under its domestic forms' keys too (`other_payout_keys`).
    An address without the label written before it (`PayPal: jane@...`, `mailto:jane@...`), or the
    one address among other words (`PayPal - jane@...`, `PayPal (jane@...)`); a PayPal.Me link by
    its name alone (`https://www.paypal.me/JaneDoe/25` is `paypal.me/janedoe`'s key). A ring paid
    into one account, or a removed partner paid again into its own, must not escape
    `cluster_shared_payout` by writing it differently in each sign-up.
    `earlier`: the key as it was before 2026-12-07 (`PayoutKey.before`): no handle, wallet or link
    read out of the words around it, an address keyed as `EmailKeys.before` is."""
    account = _paid_to(account)
    folded = account if account.isascii() else unicodedata.normalize("NFKC", account)
    shown = as_read(folded)
    if link := _PAYPAL_ME.search(shown):
        return "PAYPALME" + link["name"].upper()
    if not earlier and (handle := _handle(shown)) is not None:  # a Cash App, Venmo or Revolut link
        return handle
    if "@" in folded:  # a full-width `＠` (a CJK keyboard's) too
        return _mailbox(_paid_address(folded), earlier)
    read = as_read(ascii_digits(account))
    if not earlier:
        if (wallet := _one_wallet(read)) is not None:
            read = wallet
        read = _SCHEME.sub("", read, count=1)
    text = "".join(c for c in read if c.isalnum()).upper()
    if text.startswith("IBAN") and _IBAN.match(text, 4):
        return text[4:]
    if german := _GERMAN_DOMESTIC.fullmatch(text):  # `BLZ 37040044 Kto 532013000`, either order
        blz, number = (german[1], german[2]) if german[1] else (german[4], german[3])
        return blz + number.lstrip("0")
    if text.isdigit():  # an account number: zero-padded to a bank's length or not, one account
        return text.lstrip("0") or "0"
    return text


_IBAN = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")  # ISO 13616: country, check digits, account
# a German account written domestically with its labels: the bank's code (BLZ) and the account's number
_ACCOUNT_LABEL = "(?:KTO|KONTO|KONTONR|KONTONUMMER|KTONR)"
_GERMAN_DOMESTIC = re.compile(
    rf"BLZ([0-9]{{8}}){_ACCOUNT_LABEL}([0-9]{{1,10}})|{_ACCOUNT_LABEL}([0-9]{{1,10}})BLZ([0-9]{{8}})"
)


# A payment handle's link (with an amount or a query after it: `cash.app/$RingBoss/25`,
# `venmo.com/ring-boss?txn=pay&amount=25`), or the handle after its service's name and a colon or
# its sign (`Venmo @ring-boss`, `Cash App: $RingBoss`; `Venmo account` is no handle): a Cash App one
# keyed as `$RingBoss` is (its letters and digits), a Venmo one as `@ring-boss` is (an address's
# key: the handle with its `@`), a Revolut one as its link (`REVOLUTME...`, as PayPal.Me's): three
# services, whose handles of one spelling are three people (an evasion tester's:
# `https://cash.app/$RingBoss` was another account than `$RingBoss`, `venmo.com/u/ring-boss` than
# `@ring-boss`; the session reviewer's: a Venmo and a Revolut handle of one spelling were made one
# account by the first mend)
_HANDLE_LINK = re.compile(
    r"\s*(?:https?://)?(?:www\.)?(?:(?P<cash>cash\.app/\$?|cash\.me/\$?)|(?P<venmo>venmo\.com/(?:u/)?"
    r"|account\.venmo\.com/u/)|revolut\.me/@?)(?P<name>[a-z0-9][a-z0-9_-]{0,39})(?:/[0-9.,]*)?(?:[?#].*)?\s*$",
    re.DOTALL,
)
_NAMED_HANDLE = re.compile(
    r"\s*(?:(?P<cash>cash\s*app|cash\s*tag)|(?P<venmo>venmo)|revolut)\s*(?::\s*[$@]?|-\s*[$@]?|[$@])"
    r"(?P<name>[a-z0-9][a-z0-9_-]{0,39})\s*$"
)


def _handle(read: str) -> str | None:
    """The key of a payment handle's link or named handle (`_HANDLE_LINK`, `_NAMED_HANDLE`), or None."""
    found = _HANDLE_LINK.match(read) or _NAMED_HANDLE.match(read)
    if found is None:
        return None
    name = found["name"]
    if found["cash"]:
        return "".join(filter(str.isalnum, name)).upper()
    return normalize_email(f"@{name}") if found["venmo"] else "REVOLUTME" + name.upper()


# a link's scheme and `www.` before what it names: `https://x.example/jane` is `x.example/jane`
_SCHEME = re.compile(r"^\s*(?:https?://)?(?:www\.)?")
# A wallet by its shape, among the words written around it (`BTC: bc1q...`, `USDT (ERC20): 0x...`),
# in a field read as a person reads it (case folded: `as_read`): a bech32 one (Bitcoin's `bc1`, its
# testnet's, Litecoin's), 20 bytes in hexadecimal after `0x` (Ethereum's and every EVM chain's),
# Bitcoin's legacy base58 ones (`1...`, `3...`) and Tron's (`t...`) with a letter among their digits;
# a ticker written against it (`BTCbc1q...`, `ETH0x...`) is still a word before it
_TICKERS = ("btc", "eth", "ltc", "trx", "usdt", "usdc", "erc20", "trc20", "bep20")
_WALLET = re.compile(
    "(?:" + "|".join(f"(?<={ticker})" for ticker in _TICKERS) + r"|(?<![a-z0-9]))"
    r"(?:(?:bc|tb|ltc)1[02-9ac-hj-np-z]{11,71}|0x[0-9a-f]{40}"
    r"|[13](?=[0-9]*[a-z])[1-9a-z]{25,34}|t(?=[a-z]*[0-9])(?=[0-9]*[a-z])[1-9a-z]{33})(?![a-z0-9])"
)
# 20 bytes in hexadecimal without `0x`, a letter among them: a wallet when it is all the field names,
# after a label at most (`USDT (ERC20): 5290...`)
_LABELLED_HEX = re.compile(r"\s*(?:[a-z][a-z0-9 ()._-]{0,30}:\s*)?((?=[0-9]*[a-f])[0-9a-f]{40})\s*$")
# what says a payee is one of many at one address, told apart by it: a memo, a tag, a payment id
_SHARED_ADDRESS_WORDS = re.compile(
    r"(?<![a-z])(?:memo|tag|dt|destination|payment\s*id|reference|ref)(?![a-z])"
)


def _one_wallet(read: str) -> str | None:
    """The one wallet a payout field names among other words (`_WALLET`, `_LABELLED_HEX`), as
    `_paid_address` finds the one address (an evasion tester's: a removed partner paid into
    `BTC: bc1q...` or `ETH: 0x...`, its own wallet labelled, was `allow 0`); None when it names none
    or two, or when it also names a memo or a tag (a payee at an exchange's shared address). `read`:
    the field as a person reads it (`as_read`: what shows nothing dropped, look-alikes folded)."""
    if labelled := _LABELLED_HEX.match(read):
        return labelled[1]
    found = {match.group() for match in _WALLET.finditer(read)}
    if len(found) != 1 or _SHARED_ADDRESS_WORDS.search(read):
        return None
    return found.pop()


def _paid_to(account: str) -> str:
    """The wallet a payment link pays (`bitcoin:bc1q...?amount=1`, `ethereum:0x52...@1`), read as a
    person reads it (`as_read`), or the account as written when it is no such link."""
    read = as_read(ascii_digits(account)).strip()
    link = _PAYMENT_LINK.match(read)
    if link is None:
        return account
    scheme, rest = link["scheme"].lower(), link["rest"]
    if scheme == "ethereum" and rest.startswith("/"):
        return account  # a call to a contract: its address is the token's, every payee's
    if scheme in _NAMES_PAYEE_IN_PARAMETERS and _PAYEE_AT_A_SHARED_ADDRESS.search(rest):
        return account  # the payee is one of many at a shared address, named by a parameter
    return link["address"]


# A payment link whose path is its payee: BIP 21's and its kind's (`bitcoin:<address>?amount=...`;
# whatever the parameters, which a client ignores when it does not know them), Tron's, Solana Pay's,
# and EIP 681's plain payment (`ethereum:<address>@<chain>?value=...`). Not a call to a contract
# (`ethereum:<token>@1/transfer?address=<payee>`: the token's address, every payee's), nor a Solana
# link whose `memo` names the payee at an exchange's shared address: those stay as written, as do
# schemes not listed (XRP's `dt=`, Stellar's `web+stellar:pay?destination=...`).
_PAYMENT_LINK = re.compile(
    r"(?P<scheme>bitcoin|bitcoincash|litecoin|dogecoin|dash|zcash|solana|tron|ethereum)\s*:(?:\s*//)?\s*"
    r"(?:pay-)?(?P<address>[A-Za-z0-9]+)\s*(?:@\s*[A-Za-z0-9]+)?\s*(?P<rest>.*)",
    re.IGNORECASE | re.DOTALL,
)
_NAMES_PAYEE_IN_PARAMETERS = frozenset({"solana"})
_PAYEE_AT_A_SHARED_ADDRESS = re.compile(r"[?&](?:memo|dt|tag|destination_?tag|(?:tx_)?payment_?id)=", re.I)
_HEX_WALLET = re.compile(r"(?=[0-9]*[A-F])[0-9A-F]{40}")  # 20 bytes in hexadecimal (a letter: not digits)
_PAYOUT_LABEL = re.compile(r"^\s*([A-Za-z][A-Za-z .-]{0,30}):\s*")  # `PayPal:`, `mailto:` before an address
# `Ring Boss <ring.boss@...>` (one `@` splits the brackets' text one way: a field of `@`s is linear)
_NAMED_ADDRESS = re.compile(r"[^<>]*<(?P<address>[^<>@]*@[^<>]*)>\s*")
# a mailbox in a free-text field: a local part of letters, digits, `.`, `_`, `+`, `-` and `'` (O'Brien),
# the characters of nearly every address given; anything else around it (a blank, a bracket, a
# quote, `/`, `|`, `=`, `;`, `,`, a dash or an arrow) parts it from the words it is written among
# (begun only where no such character is before it: one try per run of them, linear in the field)
_MAILBOX = re.compile(r"(?<![\w.+'-])[\w.+'-]+@(?:[\w-]+\.)+[\w-]+")
_LABEL_JOINED = re.compile(r"\Apay\s*pal-", re.I)  # `PayPal-x@...`: the label joined by a hyphen, first
# a PayPal.Me link, with or without its scheme and `www.`, and an amount or a query after its name,
# or PayPal's own form of it (`paypal.com/paypalme/<name>`, with a country: `paypal.com/gb/paypalme/`)
# (a name is 1 to 20 letters and digits; the rest of the link names no other account; a name that
# goes on with `_`, `-` or `.` and a letter is none: keyed as written, not as its first part)
_PAYPAL_ME = re.compile(
    r"(?<![\w.])(?:https?://)?(?:www\.)?(?:paypal\.me|paypal\.com/(?:[a-z]{2}(?:[-_][a-z]{2})?/)?paypalme)/"
    r"@?(?P<name>[A-Za-z0-9]{1,20})(?![\w-]|\.\w)",
    re.I,
)


def _paid_address(account: str) -> str:
    """The address a payout account written as one names (a PayPal account), as an integration's
    free-text field may write it: read with its compatibility forms folded first (NFKC: the label
    of `PAYPAL：ring.boss@...`, a full-width colon, is `PAYPAL:`), the address inside the angle
    brackets of a named one (`Ring Boss <ring.boss@...>`, an address book's form), without the
    label written before it (`PayPal:`, `mailto:`), and a `mailto:` link without its query
    (`?subject=payout`: an address in such a link has any `?` of its own escaped, RFC 6068), and
    the one address among what is written around it (`_MAILBOX`: `PayPal - ring.boss@...`,
    `PayPal (ring.boss@...)`, `"ring.boss@..."`, `PayPal/ring.boss@...`, `ring.boss@...;`,
    `PayPal-ring.boss@...`). Each was keyed with those characters, another account than the
    address's. Whatever else the field holds (a phone number, a date, a reference, an IBAN), its one
    address is the account: a ring writes the field, and any exception for what sits beside the
    address was a way to be paid into a removed partner's PayPal unseen (a phone number beside it
    was `allow 0` where the address alone flags 85). Two addresses in one field name no one of
    them: kept as written. `account` is read with its compatibility forms folded (`payout_key`)."""
    read = account
    if named := _NAMED_ADDRESS.fullmatch(read):
        read = named["address"]
    if label := _PAYOUT_LABEL.match(read):
        read = read[label.end() :]
        if label[1].strip().lower() == "mailto":
            read = read.partition("?")[0]
    found = {_LABEL_JOINED.sub("", mailbox.lstrip(".'-"), count=1) for mailbox in _MAILBOX.findall(read)}
    if len({normalize_email(mailbox) for mailbox in found}) == 1:
        read = found.pop()
    return read


# what a payout field holds when it names no account: a placeholder, or the method without the
# account (keyed as `payout_key` keys them: letters and digits, in capitals)
PLACEHOLDER_PAYOUTS = frozenset(
    {
        "NA", "NONE", "NULL", "NIL", "UNKNOWN", "UNDEFINED", "TBD", "TBA", "TBC", "PENDING", "TEST",
        "NOTSET", "NOTPROVIDED", "NOTAPPLICABLE", "SAMEASEMAIL", "SAMEASABOVE", "SEEABOVE", "EMAIL",
        "PAYPAL", "PAYPALME", "BANK", "BANKTRANSFER", "BANKACCOUNT", "WIRE", "WIRETRANSFER", "SEPA",
        "IBAN", "ACH", "CHECK", "CHEQUE", "CASH", "STRIPE", "VENMO", "ZELLE", "WISE", "CRYPTO",
        "PAYPALACCOUNT", "PAYPALEMAIL", "MYPAYPAL", "CASHAPP", "REVOLUT", "SAMEASLOGIN", "SAMEASMYEMAIL",
        "NOACCOUNT", "NOTYET", "LATER", "TODO", "XXX", "ABC", "ASDF", "QWERTY",
        "123", "1234", "12345", "123456", "1234567", "12345678", "123456789", "1234567890",
    }
)  # fmt: skip


def names_an_account(key: str) -> bool:
    """Whether a payout key (`payout_key`) names an account: not empty, not a placeholder or a
    method alone (`PLACEHOLDER_PAYOUTS`: `N/A`, `PayPal`, `bank transfer`, `same as email`, `123`),
    not zeros alone (`0`, `000000`: an account number's key drops its leading zeros, so
    `00000001` is `1`, an account), not one letter repeated (`XXXX`). Kept as an account, such a
    word was one every partner typing it shared: three honest partners typing `PayPal` made a
    `cluster`, and a flagged throwaway typing `N/A` flagged every later partner that did (a ring
    tester's frame). A list, not a shape: an account may be letters alone (a Cash App tag)."""
    if not key or key in PLACEHOLDER_PAYOUTS or key == "0":
        return False
    return key.isdigit() or len(set(key)) > 1


# a British or Irish IBAN: the bank's four letters, then the sort code and account number
_SORT_CODE_IBAN = re.compile(r"(?:GB|IE)[0-9]{2}[A-Z]{4}([0-9]{14})$")
# a German IBAN: the bank's 8-digit code (BLZ), then the account number padded to 10 digits
_BLZ_IBAN = re.compile(r"DE[0-9]{2}([0-9]{8})([0-9]{10})$")


def iban_checks(key: str) -> bool:
    """Whether a key of IBAN shape carries its check digits right (ISO 13616 / ISO 7064 mod 97-10:
    the first four characters moved to the end, letters as 10 to 35, the number's remainder 1): an
    account number that only looks like one is read as written."""
    if not _IBAN.fullmatch(key):
        return False
    moved = key[4:] + key[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


@lru_cache(maxsize=65536)
def other_payout_keys(key: str) -> tuple[str, ...]:
    """The other keys one payout account (its `payout_key`) is known by, written another way. An
    IBAN whose check digits check names the account its domestic form names (the BBAN, the IBAN
    without its country and check digits: a German account's bank code and number, a French RIB,
    a Spanish CCC, a Belgian, Italian or Dutch account with its bank's code; `DE89 3704 0044 0532
    0130 00` is `37040044 0532013000`); a German one also its bank code and account number without
    the number's padding zeros (`BLZ 37040044 Kto 532013000`); a British or Irish one also its
    6-digit sort code and 8-digit account number (`GB29 NWBK 6016 1331 9268 19` is `60-16-13
    31926819`). Each is what `payout_key` gives that form. The IBAN keeps its own key (a profile's
    payouts and the links written before are under it): the domestic keys are linked beside it, so
    that each form finds the other, and a removed partner back with its own account in another form
    does not escape `cluster_shared_payout` (an evasion tester's: German, Dutch, French, Spanish,
    Italian and Belgian accounts did, British ones did not). So does a wallet of 40 hexadecimal
    digits with its `0x` and without it (each form keeps the key it had; the other is linked beside
    it). Empty for any other account: no second link to write."""
    if key.startswith("0X") and _HEX_WALLET.fullmatch(key, 2):
        return (key[2:],)
    if _HEX_WALLET.fullmatch(key):
        return (f"0X{key}",)
    others = []
    if iban_checks(key):
        others.append(payout_key(key[4:]))
        if matched := _BLZ_IBAN.match(key):
            others.append(payout_key(matched[1] + matched[2].lstrip("0")))
    if matched := _SORT_CODE_IBAN.match(key):  # linked so before check digits were read
        others.append(payout_key(matched[1]))
    return tuple(dict.fromkeys(k for k in others if k != key))


def same_payout_account(key: str | None, other: str | None) -> bool:
    """Whether two payout keys name one account: equal, or sharing a key (`other_payout_keys`): an
    IBAN and its domestic form. A partner moving between the forms changes no details. `key`, an
    event's, is also its key before (`PayoutKey.before`): a profile written then holds that one."""
    if key is None or other is None:
        return key == other
    forms = {key, *other_payout_keys(key)}
    if isinstance(key, PayoutKey) and key.before:
        forms.add(key.before)
    return other in forms or not forms.isdisjoint(other_payout_keys(other))


def address_in_other_role(kind: str, key: str) -> tuple[str, str] | None:
    """The link item of an e-mail address in its other role: a payout account that is an address
    (a PayPal account: `payout_key` keys it as addresses are keyed) is read in the address's
    login link too, `("email", key)`, and a login address (its `email_keys().normalized`) in its
    payout link, `("payout", key)`. One address is one identifier, whichever role each partner
    gives it in: a removed partner's login address given back as a payout account, or its PayPal
    account given back as a login, is the same person's (SPEC 3.2, 5.2). Read, never written
    (`Engine._identity`, `Engine._payout`): each partner stays a member in the role it gave the
    address, which the signals say (`signals.in_other_role`). None for any other identifier, and
    for a payout key that is no address though it has an `@` (a contract call,
    `ethereum:0x...@1/transfer?address=...`, kept as written: no one's login)."""
    if kind in ("payout", "email") and _ADDRESS_SHAPED.fullmatch(key):
        return ("email" if kind == "payout" else "payout", key)
    return None


# a key that can name a mailbox: one `@`, a domain of dotted labels (any script's letters)
_ADDRESS_SHAPED = re.compile(r"[^@]+@(?:[\w-]+\.)+[\w-]+")


@lru_cache(maxsize=65536)
def email_domain(address: str) -> str:
    return normalize_email(address).rpartition("@")[2]


@lru_cache(maxsize=8192)  # a customer's name comes back with each purchase
def normalize_name(name: str) -> str:
    """A person's name as names are compared: compatibility forms folded and accents dropped (`José
    Núñez` is `jose nunez`), case folded, anything but letters, digits and the marks that spell a
    script's vowels a blank, blanks collapsed, look-alike letters taken for the Latin ones they
    imitate (of another script: a letter of Latin script is kept, `ı` is not `i`, as the digests
    of removed partners' names were made: `namesake`). What shows nothing is no part of a name
    (`unshown`: `Ma\u034fria` is `Maria`; a blank among it, a tab, parts words). Letters of every
    script are kept: `Иван Петров` and `иван петров` are one name,
    `王伟` is `王伟` (before, both were the empty name, equal to every other
    name written in a script beyond Latin). Empty for a name of punctuation alone, which names
    no one."""
    name = _shown(name)
    if name.isascii():  # the same answer, without a step per character
        return " ".join(_NOT_ASCII_ALNUM.sub(" ", name.lower()).split())
    kept = []
    for character in unicodedata.normalize("NFKD", name):
        if unicodedata.combining(character):
            continue  # an accent, a cedilla: `é` is `e`
        kept.append(character if character.isalnum() or unicodedata.category(character)[0] == "M" else " ")
    # a letter that only looks Latin (a Cyrillic `а` in `Mаria`) is the Latin one it imitates, as in
    # e-mail addresses: names of one script still compare letter by letter, look-alike for look-alike
    folded = "".join(
        c if c.isascii() else _latin_lookalike(c, latin_script=False) for c in "".join(kept).casefold()
    )
    return " ".join(folded.split())


@lru_cache(maxsize=8192)
def name_key(name: str) -> str:
    """A person's name as two names of one person compare: `normalize_name`'s words, sorted, so the
    order they were given in does not tell them apart (`Smith John`, `SMITH, John` and
    `John Smith` are one name: forms and integrations put the family name first or last). Empty for
    a name that names no one."""
    return " ".join(sorted(normalize_name(name).split()))


# words of a name that are no part of who the person is: titles (an initial, a single letter, is left
# out too). Not `Jr`, `Sr`, `II`: a father and his son in one home are two people
_NOT_A_NAME = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir"})
BARE = "~"  # marks an IP entry's digest of a name without its initials and titles


def namesake(name: str, pepper: bytes) -> str | None:
    """What a removed partner's name is remembered by on its IPs (`marks.removed_marks`): a keyed
    digest of its `name_key` (the platform's pepper, as network keys are), short and fixed in size
    whatever the name (an IP's item holds one per removed partner), and no name on the item. None
    for a name too common to tell anyone by: one word (`Admin`, `Test`, a shop's name, `Łukasz`), or
    digits; one word of a script written without spaces between words (`王伟`, `김민준`) counts
    from two characters."""
    return _name_digest(_name_words(name), pepper)


def bare_namesake(name: str, pepper: bytes) -> str | None:
    """`namesake` of the name without its initials and titles (`Dr Kai J. Brandt` is `Kai Brandt`),
    when that differs from the name whole and still tells someone."""
    whole = _name_words(name)
    bare = _bare_words(whole)
    return _name_digest(bare, pepper) if bare != whole else None


def _name_words(name: str) -> list[str]:
    """A name's words as its digests take them: `name_key`'s, but for numbers."""
    return [word for word in name_key(name).split() if not word.isdigit()]


def _name_digest(words: list[str], pepper: bytes) -> str | None:
    if not _tells_someone(words):
        return None
    return hmac.new(pepper, f"name:{' '.join(words)}".encode(), hashlib.sha256).hexdigest()[:16]


def names_someone(name: str) -> bool:
    """Whether a name can tell a person by (`namesake`'s rule): two words at least, or one word of
    two characters or more in a script written without spaces; not one word (`Lena`, `Admin`)."""
    return _tells_someone(_name_words(name))


def _tells_someone(words: list[str]) -> bool:
    return len(words) >= 2 or (len(words) == 1 and len(words[0]) >= 2 and _unspaced(words[0]))


# scripts written without spaces between a person's names (Unicode character names begin so)
_UNSPACED_SCRIPTS = ("CJK ", "HIRAGANA ", "KATAKANA ", "HANGUL ", "THAI ", "LAO ", "KHMER ", "MYANMAR ")


def _unspaced(word: str) -> bool:
    return all(unicodedata.name(character, "").startswith(_UNSPACED_SCRIPTS) for character in word)


def namesake_entry(member: str, digest: str) -> str:
    """How an IP's item keeps a removed partner's name: `<member> <digest>` (a member key never
    holds a blank)."""
    return f"{member} {digest}"


def namesake_of(entry: str) -> tuple[str, str]:
    member, _, digest = entry.rpartition(" ")
    return member, digest


def namesake_entries(member: str, name: str, pepper: bytes) -> frozenset[str]:
    """An IP's entries for a removed partner's name: its `namesake`, and `~` and its `bare_namesake`
    when the name has initials or titles."""
    bare = bare_namesake(name, pepper)
    digests = (namesake(name, pepper), BARE + bare if bare else None)
    return frozenset(namesake_entry(member, digest) for digest in digests if digest)


def _bare_words(words: list[str]) -> list[str]:
    return [word for word in words if not (word in _NOT_A_NAME or (len(word) == 1 and not _unspaced(word)))]


def untagged(address: str) -> str:
    """An address without a `+tag` in its local part, at any domain: a customer typing the
    partner's own address with a tag (`kai+deal@brandtmedia.de`) is typing the partner's address."""
    local, at, domain = address.rpartition("@")
    return f"{_without_tag(local)}{at}{domain}"


def _without_tag(local: str) -> str:
    """A local part without its `+tag`; one with nothing before the `+` has none (`+4917...`: a
    phone number)."""
    return local.split("+", 1)[0] or local


def names_the_same(entry_digest: str, name: str, pepper: bytes) -> bool:
    """Whether an IP entry's digest and a sign-up's name are one name: the name whole either way, or
    an initial or a title on one side only (`Kai Brandt` and `Kai J. Brandt`, `Dr Kai Brandt`). Two
    different initials (`John A. Smith`, `John B. Smith`) or titles (`Mr`, `Mrs`) are two names."""
    whole = namesake(name, pepper)
    if entry_digest.startswith(BARE):  # the removed partner's name had initials or titles
        return whole is not None and entry_digest[len(BARE) :] == whole
    return entry_digest in {digest for digest in (whole, bare_namesake(name, pepper)) if digest}


def searchable_name(text: str) -> str:
    """A name as the case search compares it: as a person reads it (`normalize_name`:
    accents, case and compatibility forms folded, `é` typed as one character or as `e` and an
    accent, `İstanbul` as `istanbul`), what shows nothing dropped first (`_shown`: a zero-width
    space inside a name does not hide it from a search for the name), then its Latin letters that
    no accent makes, which `normalize_name` keeps, in those a keyboard without them types
    (`anyascii`: `Łukasz Wałęsa` is `lukasz walesa`, `Søren` `soren`, `Đorđe` `dorde`, `Straße`
    `strasse`). Letters of other scripts are not spelled in Latin (as `li`, `李` found `Alice`),
    though those that only look Latin are read as the Latin ones (`normalize_name`). Punctuation
    alone is kept as typed, case folded."""
    shown = _shown(text)
    read = normalize_name(shown)
    if not read:
        return shown.casefold()
    if read.isascii():
        return read
    return "".join(_latin_typed(c) if not c.isascii() else c for c in read)


@lru_cache(maxsize=4096)
def _latin_typed(letter: str) -> str:
    """A Latin letter beyond ASCII as typed without it (`ł`: `l`, `ß`: `ss`); any other as it is."""
    if not unicodedata.name(letter, "").startswith("LATIN "):
        return letter
    from anyascii import anyascii  # on the first such letter: no cold start pays its import

    return anyascii(letter).casefold() or letter


def name_searched(needle: str, name: str) -> bool:
    """Whether a search (`searchable_name` of what was typed) finds a name: read as a person reads
    it, or, for what reading drops (a search for `🙂` or `...`), as the name shows it, case folded,
    or without its apostrophes, which people leave out when they type a name (`obrien` finds
    `Seán O'Brien`, as `o'brien` and `o brien` do)."""
    return (
        needle in searchable_name(name)
        or needle in _shown(name).casefold()
        or (_APOSTROPHES.search(name) is not None and needle in searchable_name(_APOSTROPHES.sub("", name)))
    )


_APOSTROPHES = re.compile("['\u2018\u2019\u02bc\u02bb`\u00b4\uff07]")


def _shown(text: str) -> str:
    """Text as it shows: without what shows nothing (`unshown`), its blanks (a tab, a line break
    among them) one space each."""
    return unshown(" ".join(text.split()))


def normalize_device(fingerprint: str) -> str:
    """A device fingerprint as one key however it is sent: blanks around it dropped, case folded,
    what shows nothing dropped (`unshown`: a control character, a zero-width space, a combining
    grapheme joiner), and one beyond ASCII as a person reads it (`as_read`: compatibility forms
    folded, look-alike letters taken for the Latin ones): a removed partner's device with a
    zero-width space or a Hangul filler in it is still that device."""
    fingerprint = unshown(fingerprint)  # none shows, as none does in an address
    return (fingerprint if fingerprint.isascii() else as_read(fingerprint)).strip().lower()


@lru_cache(maxsize=65536)  # an HMAC per identifier of every event otherwise
def network_key(kind: str, value: str, pepper: bytes) -> str:
    """A keyed hash: programs share signals about a person without sharing who the person is."""
    return hmac.new(pepper, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:32]


LOCAL_PEPPER = "local-network-pepper-not-secret"


def network_pepper() -> bytes:
    """The platform's secret for network keys, in this order: NETWORK_PEPPER itself; else the Secrets
    Manager secret NETWORK_PEPPER_SECRET_ARN names (deployed), read once per process; else, on the
    local system and in tests, a fixed public one. A secret that cannot be read, or a deployed
    function given neither, raises: network keys hashed with the public pepper would reveal
    identities and never match the deployed ones."""
    import os

    if explicit := os.environ.get("NETWORK_PEPPER"):
        return explicit.encode()
    if secret_arn := os.environ.get("NETWORK_PEPPER_SECRET_ARN"):
        return _pepper_from_secret(secret_arn)
    from functions.shared.config import ConfigurationError, deployed

    if deployed():  # a function the stack did not give the secret: never the public pepper there
        raise ConfigurationError("NETWORK_PEPPER_SECRET_ARN is not set: network keys need the secret")
    return LOCAL_PEPPER.encode()


@lru_cache(maxsize=1)
def _pepper_from_secret(secret_arn: str) -> bytes:
    """One read per process (a failed read is not cached: the next call tries again). Never the
    public pepper instead: Secrets Manager busy, throttled or not answering is a dependency
    unavailable (an API answers 503, queued work stays due); a secret missing, empty or not granted
    is refused until an operator mends it (an API answers 500, queued work stays due meanwhile:
    `errors.retried_later`). Either way no event is given up for it."""
    import boto3  # only deployed functions get here: no boto3 import on the local path
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        CredentialRetrievalError,
        NoCredentialsError,
        PartialCredentialsError,
    )

    from functions.shared import aws_calls
    from functions.shared.errors import StorageRefused, StorageUnavailable

    # bounded as every client the functions build (`aws_calls`): a stuck read fails the invocation
    # within an API function's timeout, not at it
    client = boto3.client("secretsmanager", config=aws_calls.limits_of("secretsmanager").botocore_config())
    try:
        value = client.get_secret_value(SecretId=secret_arn).get("SecretString")
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in _SECRETS_PASSING:
            raise StorageUnavailable(f"the network pepper secret could not be read now: {code}") from exc
        raise StorageRefused(f"cannot read the network pepper secret {secret_arn}: {code}") from exc
    except (NoCredentialsError, PartialCredentialsError, CredentialRetrievalError) as exc:
        raise StorageRefused(f"cannot read the network pepper secret {secret_arn}: {exc}") from exc
    except BotoCoreError as exc:  # no connection, or no answer in time
        raise StorageUnavailable(f"the network pepper secret did not answer: {type(exc).__name__}") from exc
    if not value:
        raise StorageRefused(f"the network pepper secret {secret_arn} has no string value")
    return value.encode()


# what Secrets Manager answers when a retry may get past it (busy, throttled, failing for a moment)
_SECRETS_PASSING = frozenset(
    {
        "ThrottlingException",
        "InternalServiceError",
        "InternalFailure",
        "ServiceUnavailable",
        "RequestLimitExceeded",
    }
)


# --- placeholders, crowds and near duplicates (SPEC 5.1 email_similar; issue 14) ----------------
# Values integrations send when they have no fingerprint: they name no device, so they link no one,
# count no velocity and never reach the network (one such value would otherwise be a platform-wide
# hot item that every event writes, and that makes everyone "share a device").
PLACEHOLDER_DEVICES = frozenset(
    {"unknown", "none", "null", "undefined", "nil", "n/a", "na", "default", "anonymous", "test", "device"}
)
_FILLER = frozenset("-_:. ")

# A link item this crowded is no longer evidence about a person, and stops being written: no more
# members and no more marks (a carrier NAT, a shared kiosk). Near-duplicate keys crowd much sooner:
# a common first name or a role address (emily123@…, info@…) is many people, not one.
MAX_LINK_MEMBERS = 200
SIMILAR_EMAIL_CROWD = 5  # more others than this on one near-duplicate key: not evidence
NEAR_DUPLICATE_KINDS = frozenset({"email_skeleton", "email_near"})
# email_near: an address's bare local part (its skeleton's) cut in three blocks, each key the part
# with one block masked, per domain; the item keeps each member's masked block (its `spans`). Two
# addresses one edit apart differ inside one block of the stored one, so the later one finds it by
# probing each block of each length the stored one can have (its own, one more, one less), and
# compares what stands in the masked place: outside it the two are equal, so that comparison is
# their whole edit distance. A swap of two letters across a cut is probed as such. Three keys are
# written per address, about eleven read (issue 15: each written key costs 2 WCU in the
# transaction). Short locals have too many neighbours to mean anything; very long ones would cost
# too many keys.
SIMILAR_EMAIL_DISTANCE = 2  # edit distance between bare local parts that still counts as similar
NEAR_BLOCKS = 3
# spans an `email_near` item keeps at most: one per member and address, so a member changing its
# address again and again under one key would grow the item without end; at this many it is crowded
NEAR_SPANS_LIMIT = 2 * (SIMILAR_EMAIL_CROWD + 1)
NEAR_MIN_LENGTH = 5
NEAR_MAX_LENGTH = 24


@dataclass(frozen=True, slots=True)
class NearProbe:
    """One `email_near` key an address looks up: a stored address under it that has `span` in its
    masked block is `edits` + edit_distance(span, middle) from this one (at most: a swap probe's
    `edits` are the swap's two). `written`: the key is also one of the address's own (its own
    length, nothing swapped), written with `middle` as its span."""

    key: str
    middle: str
    edits: int = 0
    written: bool = False

    def distance(self, span: str) -> int:
        return self.edits + edit_distance(span, self.middle)


@lru_cache(maxsize=65536)
def usable_device(fingerprint: str | None) -> str | None:
    """The normalized fingerprint, or None when it names no device (absent, blank, a placeholder
    such as `unknown` or `00000000`: one character repeated, separators aside)."""
    if not fingerprint:
        return None
    value = normalize_device(fingerprint)
    if not value or value in PLACEHOLDER_DEVICES or len(set(value) - _FILLER) <= 1:
        return None
    return value


def crowd_limit(kind: str) -> int:
    """How many members a link of this kind may have: one at its limit stopped being evidence and
    being written (`links.crowded_links`)."""
    return SIMILAR_EMAIL_CROWD + 1 if kind in NEAR_DUPLICATE_KINDS else MAX_LINK_MEMBERS


@lru_cache(maxsize=65536)
def near_probes(address: str) -> tuple[NearProbe, ...]:
    """The address's `email_near` probes, its own (written) keys first. Empty for a bare local part
    shorter than NEAR_MIN_LENGTH or longer than NEAR_MAX_LENGTH."""
    return _near_probes(normalize_email(address))


def near_keys(address: str) -> tuple[tuple[str, str], ...]:
    """The `email_near` keys an address is written under, each with its span (the masked block)."""
    return tuple((p.key, p.middle) for p in near_probes(address) if p.written)


def span_entry(member: str, span: str) -> str:
    """How an `email_near` item keeps a member's masked block: `<member> <block>` (a member key
    never holds a blank)."""
    return f"{member} {span}"


def span_of(entry: str) -> tuple[str, str]:
    """A span entry read back: (member, block)."""
    member, _, span = entry.partition(" ")
    return member, span


def _cuts(length: int) -> list[int]:
    return [length * block // NEAR_BLOCKS for block in range(NEAR_BLOCKS + 1)]


@lru_cache(maxsize=8192)
def _near_probes(normalized: str) -> tuple[NearProbe, ...]:
    local, _, domain = normalized.rpartition("@")
    bare = _bare(local)
    own = len(bare)
    if not NEAR_MIN_LENGTH <= own <= NEAR_MAX_LENGTH:
        return ()
    probes: dict[str, NearProbe] = {}
    for length in (own, own - 1, own + 1):  # a stored address's: the same, one letter dropped, added
        if not NEAR_MIN_LENGTH <= length <= NEAR_MAX_LENGTH:
            continue
        cuts = _cuts(length)
        for block in range(NEAR_BLOCKS):
            head, tail = cuts[block], length - cuts[block + 1]  # its letters before and after the block
            key = f"{length}.{block}:{bare[:head]}{bare[own - tail :]}@{domain}"
            probes.setdefault(key, NearProbe(key, bare[head : own - tail], 0, length == own))
    cuts = _cuts(own)
    for cut in cuts[1:-1]:  # two letters swapped across a cut: the swap undone, then block 0 masked
        swapped = bare[: cut - 1] + bare[cut] + bare[cut - 1] + bare[cut + 1 :]
        if swapped != bare:
            key = f"{own}.0:{swapped[cuts[1] :]}@{domain}"
            probes.setdefault(key, NearProbe(key, swapped[: cuts[1]], 2))  # a swap is two edits
    return tuple(probes.values())


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions), for tests and details."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]
