"""Synthetic "collected" support-ticket dataset, deterministic for a seed.

Every person is invented from small built-in name lists; nothing is copied from any real or evaluation
corpus. Free-text messages hide names, phone numbers, emails, street addresses and order/account numbers
inside sentences, written the way customers write (mixed case, lower case, shouting).
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

FIRST = {
    "female": [
        "Maria",
        "Aisha",
        "Emily",
        "Sofia",
        "Chloe",
        "Priya",
        "Hannah",
        "Olivia",
        "Grace",
        "Mei",
        "Fatima",
        "Laura",
        "Nora",
        "Julia",
        "Sarah",
        "Amelia",
        "Zoe",
        "Elena",
        "Ruth",
        "Ingrid",
    ],
    "male": [
        "James",
        "Mohammed",
        "Lucas",
        "Daniel",
        "Wei",
        "Carlos",
        "Ethan",
        "Omar",
        "Liam",
        "Noah",
        "Arjun",
        "Peter",
        "Samuel",
        "Tomas",
        "David",
        "Kenji",
        "Felix",
        "Ivan",
        "Hugo",
        "Victor",
    ],
    "nonbinary": ["Alex", "Sam", "Jordan", "Robin", "Taylor", "Casey", "Riley", "Jamie"],
}
LAST = [
    "Smith",
    "Johnson",
    "Garcia",
    "Okafor",
    "Nguyen",
    "Kowalski",
    "Brown",
    "Patel",
    "Rossi",
    "Müller",
    "Jensen",
    "Silva",
    "Kim",
    "Haddad",
    "O'Brien",
    "Novak",
    "Fischer",
    "Tanaka",
    "Andersen",
    "Dubois",
    "Wright",
    "Lopez",
    "Khan",
    "Moreau",
    "Walker",
    "Ivanova",
    "Schmidt",
    "Cohen",
    "Ramirez",
    "Baker",
]
STREETS = [
    "Maple Avenue",
    "Oak Street",
    "Harbor Road",
    "Elm Drive",
    "Cedar Lane",
    "Station Road",
    "Hillcrest Boulevard",
    "Church Street",
    "Lakeview Terrace",
    "Mill Lane",
    "Pine Court",
    "King Street",
]
CITIES = {
    "US": ["Springfield", "Riverton", "Fairview", "Madison", "Georgetown", "Salem"],
    "GB": ["Bristol", "Leeds", "Norwich", "York", "Bath", "Derby"],
    "CA": ["Kingston", "Guelph", "Halifax", "Victoria", "Regina"],
    "AU": ["Geelong", "Cairns", "Hobart", "Ballarat"],
}
COUNTRY_WEIGHTS = {"US": 0.5, "GB": 0.25, "CA": 0.15, "AU": 0.10}
DOMAINS = ["example.com", "mail.example.org", "example.net", "inbox.example.co.uk"]
GENDERS = {"female": 0.48, "male": 0.47, "nonbinary": 0.05}
LABELS = {"billing": 0.30, "shipping": 0.25, "technical": 0.25, "account": 0.12, "refund": 0.08}

PRODUCTS = ["router", "blender", "headphones", "laptop stand", "coffee grinder", "smart bulb", "backpack"]

TEMPLATES: dict[str, list[str]] = {
    "billing": [
        "Hi, I was charged twice for order {order}. Please call me on {phone}.",
        "my card was billed again for account {account}, can someone email me at {email}",
        "Hello, this is {name}. The invoice for order {order} shows the wrong amount.",
        "Why did my subscription renew? Account number {account}. Thanks, {first}",
    ],
    "shipping": [
        "My {product} never arrived. Shipping address is {address}. Order {order}.",
        "hi its {first} {last_lower}, package for order #{order} went to the wrong house, i live at {address}",
        "The courier says delivered but nothing at {address}. Reach me at {phone}.",
        "Can you change the delivery address for order {order}? Contact {email}.",
    ],
    "technical": [
        "The {product} keeps disconnecting. My name is {name} and my number is {phone}.",
        "firmware update bricked my {product}!! email me back at {email}",
        "Dr. {last} here, the {product} app crashes on login since yesterday.",
        "MY {product_upper} STOPPED WORKING. CALL ME AT {phone}. {name_upper}",
    ],
    "account": [
        "Please close my account {account}. I am {name}, born {dob_text}.",
        "I can't log in, the reset mail goes to {email} which I no longer use.",
        "Update my phone to {phone} on account {account} please.",
        "hello, mrs {last_lower} here, someone changed my password without asking",
    ],
    "refund": [
        "I returned the {product} (order {order}) two weeks ago and still no refund. {name}",
        "refund for order {order} please, send confirmation to {email}",
        "Mr. {last} would like a refund for the damaged {product}. Phone {phone}.",
    ],
}


def _weighted(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()), k=1)[0]


def _phone(rng: random.Random, country: str) -> str:
    if country == "GB":
        return f"+44 7{rng.randint(100, 999)} {rng.randint(100000, 999999)}"
    if country == "AU":
        return f"+61 4{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(100, 999)}"
    area = rng.choice([212, 312, 415, 503, 617, 646, 713, 206, 604, 416])
    style = rng.random()
    if style < 0.4:
        return f"({area}) {rng.randint(200, 999)}-{rng.randint(1000, 9999)}"
    if style < 0.8:
        return f"{area}-{rng.randint(200, 999)}-{rng.randint(1000, 9999)}"
    return f"+1 {area} {rng.randint(200, 999)} {rng.randint(1000, 9999)}"


def generate_support_tickets(rows: int, seed: int = 7, *, skew: str | None = None) -> pa.Table:
    """Build the sample table. ``skew`` optionally removes a label (``"label:refund"``) or a group
    (``"gender:female"``) to exercise the balance gates."""
    if rows < 1:
        raise ValueError("rows must be at least 1")
    rng = random.Random(seed)  # noqa: S311 - synthetic data, deterministic by design
    labels = dict(LABELS)
    genders = dict(GENDERS)
    if skew:
        field, _, value = skew.partition(":")
        target = {"label": labels, "gender": genders}.get(field)
        if target is None or value not in target:
            raise ValueError(f"unknown skew {skew!r}; use label:<label> or gender:<gender>")
        del target[value]
    cols: dict[str, list[object]] = {
        name: []
        for name in (
            "ticket_id",
            "customer_name",
            "email",
            "phone",
            "street_address",
            "date_of_birth",
            "gender",
            "age",
            "country",
            "message",
            "label",
        )
    }
    today = date(2026, 11, 1)
    for i in range(rows):
        gender = _weighted(rng, genders)
        first = rng.choice(FIRST[gender])
        last = rng.choice(LAST)
        country = _weighted(rng, COUNTRY_WEIGHTS)
        age = rng.randint(18, 84)
        dob = today - timedelta(days=age * 365 + rng.randint(0, 364))
        email = f"{first.lower()}.{last.lower().replace(chr(39), '')}{rng.randint(1, 99)}@{rng.choice(DOMAINS)}"
        phone = _phone(rng, country)
        address = f"{rng.randint(1, 9999)} {rng.choice(STREETS)}, {rng.choice(CITIES[country])}"
        label = _weighted(rng, labels)
        template = rng.choice(TEMPLATES[label])
        message = template.format(
            order=f"{rng.choice(['ORD', 'ord', 'A'])}-{rng.randint(100000, 999999)}",
            account=f"{rng.randint(10000000, 99999999)}",
            phone=phone,
            email=email,
            name=f"{first} {last}",
            name_upper=f"{first} {last}".upper(),
            first=first,
            last=last,
            last_lower=last.lower(),
            address=address,
            product=rng.choice(PRODUCTS),
            product_upper=rng.choice(PRODUCTS).upper(),
            dob_text=dob.strftime("%d %B %Y"),
        )
        cols["ticket_id"].append(f"T{100000 + i}")
        cols["customer_name"].append(f"{first} {last}")
        cols["email"].append(email)
        cols["phone"].append(phone)
        cols["street_address"].append(address)
        cols["date_of_birth"].append(dob.isoformat())
        cols["gender"].append(gender)
        cols["age"].append(str(age))
        cols["country"].append(country)
        cols["message"].append(message)
        cols["label"].append(label)
    return pa.table({name: pa.array(values, type=pa.string()) for name, values in cols.items()})


def write_table(table: pa.Table, out: Path) -> Path:
    """Write ``table`` as CSV or Parquet, chosen by the extension of ``out``."""
    suffix = out.suffix.lower()
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        pacsv.write_csv(table, out)
    elif suffix == ".parquet":
        pq.write_table(table, out)
    else:
        raise ValueError(f"--out must end in .csv or .parquet, not {suffix or '(none)'}")
    return out
