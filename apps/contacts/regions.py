"""A contact's country as an ISO 3166-1 alpha-2 code and their region as a postal code.

Quiet hours and frequency caps key their state rules on the postal code: a contact stored
with "Florida" instead of "FL" silently lost the Florida hours (8:00-20:00) and the Florida
cap (3 a day). So every input (API, event intake, CSV import, admin, services) passes
through `region_normalize` and `country_normalize`, and an unknown value is an error.

- United States (USPS codes: the states, DC, the territories PR, GU, VI, AS, MP and the
  military AA, AE, AP) and Canada (Canada Post codes): full names, codes, the AP-style and
  older abbreviations ("Fla.", "Calif.", "Penna."), French names ("Québec"), the legacy
  "PQ" and "NF", and ISO 3166-2 forms ("US-FL") all become the code. Case, spaces,
  punctuation and accents do not matter.
- Any other country: Cue has no rule keyed on its regions, so the value is kept as given
  (trimmed, inner spaces collapsed), up to 10 characters; an ISO 3166-2 subdivision code
  (e.g. "BY" for Bavaria) is the suggested form.
"""

import re
import unicodedata
from functools import lru_cache

from apps.contacts.errors import ContactsError

MAX_LENGTH = 10  # Contact.region's column

# code: (name, other spellings...). Spellings are compared folded (see _fold).
US_REGIONS = {
    "AL": ("Alabama", "Ala."),
    "AK": ("Alaska", "Alas."),
    "AZ": ("Arizona", "Ariz."),
    "AR": ("Arkansas", "Ark."),
    "CA": ("California", "Calif.", "Cal."),
    "CO": ("Colorado", "Colo.", "Col."),
    "CT": ("Connecticut", "Conn."),
    "DE": ("Delaware", "Del.", "Dela."),
    "DC": (
        "District of Columbia", "D.C.", "Washington D.C.", "Washington, DC",
        "Washington, District of Columbia",
    ),
    "FL": ("Florida", "Fla.", "Flor."),
    "GA": ("Georgia", "Ga."),
    "HI": ("Hawaii", "Hawai'i", "Haw."),
    "ID": ("Idaho", "Ida."),
    "IL": ("Illinois", "Ill."),
    "IN": ("Indiana", "Ind."),
    "IA": ("Iowa", "Ia."),
    "KS": ("Kansas", "Kan.", "Kans."),
    "KY": ("Kentucky", "Ky."),
    "LA": ("Louisiana", "La."),
    "ME": ("Maine", "Me."),
    "MD": ("Maryland", "Md."),
    "MA": ("Massachusetts", "Mass."),
    "MI": ("Michigan", "Mich."),
    "MN": ("Minnesota", "Minn."),
    "MS": ("Mississippi", "Miss."),
    "MO": ("Missouri", "Mo."),
    "MT": ("Montana", "Mont."),
    "NE": ("Nebraska", "Neb.", "Nebr."),
    "NV": ("Nevada", "Nev."),
    "NH": ("New Hampshire", "N.H."),
    "NJ": ("New Jersey", "N.J."),
    "NM": ("New Mexico", "N.M.", "N. Mex."),
    "NY": ("New York", "N.Y."),
    "NC": ("North Carolina", "N.C.", "N. Car."),
    "ND": ("North Dakota", "N.D.", "N. Dak."),
    "OH": ("Ohio",),
    "OK": ("Oklahoma", "Okla."),
    "OR": ("Oregon", "Ore.", "Oreg."),
    "PA": ("Pennsylvania", "Pa.", "Penn.", "Penna."),
    "RI": ("Rhode Island", "R.I."),
    "SC": ("South Carolina", "S.C.", "S. Car."),
    "SD": ("South Dakota", "S.D.", "S. Dak."),
    "TN": ("Tennessee", "Tenn."),
    "TX": ("Texas", "Tex."),
    "UT": ("Utah",),
    "VT": ("Vermont", "Vt."),
    "VA": ("Virginia", "Va."),
    "WA": ("Washington", "Wash.", "Washington State"),
    "WV": ("West Virginia", "W.Va.", "W. Virginia"),
    "WI": ("Wisconsin", "Wis.", "Wisc."),
    "WY": ("Wyoming", "Wyo."),
    "PR": ("Puerto Rico", "P.R."),
    "GU": ("Guam",),
    "VI": (
        "U.S. Virgin Islands", "Virgin Islands", "United States Virgin Islands", "V.I.",
        "USVI",
    ),
    "AS": ("American Samoa", "Am. Samoa"),
    "MP": ("Northern Mariana Islands", "Northern Marianas", "N. Mariana Islands", "CNMI"),
    "AA": ("Armed Forces Americas",),
    "AE": ("Armed Forces Europe",),
    "AP": ("Armed Forces Pacific",),
}  # fmt: skip

CA_REGIONS = {
    "AB": ("Alberta", "Alta."),
    "BC": ("British Columbia", "B.C.", "Colombie-Britannique"),
    "MB": ("Manitoba", "Man."),
    "NB": ("New Brunswick", "N.B.", "Nouveau-Brunswick"),
    "NL": (
        "Newfoundland and Labrador", "Newfoundland", "Nfld.", "NF", "N.L.",
        "Terre-Neuve-et-Labrador", "Terre-Neuve",
    ),
    "NS": ("Nova Scotia", "N.S.", "Nouvelle-Écosse"),
    "NT": ("Northwest Territories", "N.W.T.", "Territoires du Nord-Ouest"),
    "NU": ("Nunavut", "Nvt."),
    "ON": ("Ontario", "Ont."),
    "PE": ("Prince Edward Island", "P.E.I.", "PEI", "Île-du-Prince-Édouard"),
    "QC": ("Quebec", "Que.", "PQ", "P.Q.", "Province de Québec"),
    "SK": ("Saskatchewan", "Sask."),
    "YT": ("Yukon", "Yukon Territory", "Y.T.", "YK"),
}  # fmt: skip

# Where a country's regions are known: its name in messages, what a region is called there.
KNOWN_COUNTRIES = {
    "US": ("the United States", "US state, territory or postal code", "FL or Florida"),
    "CA": ("Canada", "Canadian province or territory", "ON or Ontario"),
}

# ISO 3166-1 alpha-2, plus XK (Kosovo: user-assigned, but what phone numbering uses).
ISO_COUNTRIES = frozenset(
    re.findall(
        r"[A-Z]{2}",
        """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ
    BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR
    CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR
    GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU
    ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ
    LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
    MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF
    PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI
    SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR
    TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW XK
    """,
    )
)

# Names and alpha-3 codes people write instead of the alpha-2 code.
COUNTRY_NAMES = {
    "US": (
        "USA", "U.S.", "U.S.A.", "United States", "United States of America", "America",
        "The United States",
    ),
    "CA": ("Canada", "CAN"),
    "GB": (
        "UK", "U.K.", "United Kingdom", "Great Britain", "Britain", "England", "Scotland",
        "Wales", "Northern Ireland", "GBR",
        "United Kingdom of Great Britain and Northern Ireland",
    ),
    "MX": ("Mexico", "México", "MEX"),
    "IE": ("Ireland", "IRL"),
    "FR": ("France", "FRA"),
    "DE": ("Germany", "Deutschland", "DEU"),
    "ES": ("Spain", "España", "ESP"),
    "IT": ("Italy", "ITA"),
    "NL": ("Netherlands", "The Netherlands", "Holland", "NLD"),
    "AU": ("Australia", "AUS"),
    "NZ": ("New Zealand", "NZL"),
    "IN": ("India", "IND"),
    "BR": ("Brazil", "Brasil", "BRA"),
    "JP": ("Japan", "JPN"),
}  # fmt: skip

_ISO_SUBDIVISION = re.compile(r"([A-Za-z]{2})\s*-\s*([A-Za-z0-9]{1,3})")


@lru_cache(maxsize=4096)  # a sync reads the same few places a hundred thousand times
def _fold(text: str) -> str:
    """ "Québec", " quebec. " and "QUE-BEC" fold alike: no accents, case or punctuation."""
    decomposed = unicodedata.normalize("NFKD", text.replace("&", " and "))
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return re.sub(r"[^0-9a-z]", "", bare.casefold())


def _aliases(table: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Folded spelling -> code; two codes claiming one spelling is a mistake in the table."""
    aliases: dict[str, str] = {}
    for code, spellings in table.items():
        for spelling in (code, *spellings):
            key = _fold(spelling)
            if aliases.setdefault(key, code) != code:
                raise ValueError(f"{spelling!r} names both {aliases[key]} and {code}.")
    return aliases


_REGIONS = {"US": _aliases(US_REGIONS), "CA": _aliases(CA_REGIONS)}
_COUNTRIES = _aliases(COUNTRY_NAMES) | {_fold(code): code for code in ISO_COUNTRIES}


def country_normalize(value: str | None) -> str:
    """The ISO 3166-1 alpha-2 code of a country written as a code, alpha-3 or common name
    ("usa", "U.S.", "United Kingdom" -> US, US, GB); raises ContactsError otherwise."""
    code = _COUNTRIES.get(_fold(value or ""))
    if code is None:
        raise ContactsError(
            f"{(value or '').strip()!r} is not a country; give its two-letter ISO code, e.g. US.",
            field="country",
        )
    return code


def region_normalize(value: str | None, country: str | None) -> str:
    """The region's postal code for a contact in `country` ("Florida", "fl ", "Fla." -> FL).

    `country` is a code or name; None means "wherever Cue knows regions" (the US or
    Canada), for a caller that does not know the country yet. Blank stays blank. Raises
    ContactsError (field "region") for a region the country does not have.
    """
    text = " ".join((value or "").split())
    if not text:
        return ""
    code = country_normalize(country) if country else None
    if code is not None and code not in KNOWN_COUNTRIES:
        return _region_as_given(text)
    subdivision = _ISO_SUBDIVISION.fullmatch(text)
    if subdivision:  # "US-FL": the ISO 3166-2 form names its country too
        prefix = subdivision[1].upper()
        if prefix in KNOWN_COUNTRIES and code in (None, prefix):
            code, text = prefix, subdivision[2]
    for candidate in [code] if code else KNOWN_COUNTRIES:
        found = _REGIONS[candidate].get(_fold(text))
        if found:
            return found
    raise ContactsError(_unknown_region_message(value or "", code), field="region")


def _region_as_given(text: str) -> str:
    if any(unicodedata.category(char)[0] == "C" for char in text):
        raise ContactsError(
            "The region holds a control or unpaired character; give its code, e.g. BY.",
            field="region",
        )
    if len(text) > MAX_LENGTH:
        raise ContactsError(
            f"Give the region as a code of at most {MAX_LENGTH} characters "
            "(its ISO 3166-2 code, e.g. BY for Bavaria).",
            field="region",
        )
    return text


def _unknown_region_message(value: str, country: str | None) -> str:
    shown = value.strip()
    if country is None:
        return (
            f"{shown!r} is not a US state or territory or a Canadian province or territory "
            "(e.g. FL, Florida, ON)."
        )
    _, noun, example = KNOWN_COUNTRIES[country]
    for other, (other_name, *_) in KNOWN_COUNTRIES.items():
        found = _REGIONS[other].get(_fold(shown)) if other != country else None
        if found:
            return f"{shown!r} is {found} in {other_name}, but the country is {country}."
    return f"{shown!r} is not a {noun} (e.g. {example})."
