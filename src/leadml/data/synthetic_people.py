"""The people in the synthetic lead history: names, e-mail addresses, phones and job titles.

They are personal data in shape only: drawn independently of everything that drives conversion,
so they carry no signal (the invariance tests rely on it: a lead's name never moves its score),
and they give the PII checks and the privacy tests columns to find and keep out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

FIRST = np.array(
    [
        "Ana",
        "Ben",
        "Carla",
        "David",
        "Elena",
        "Farid",
        "Grace",
        "Hugo",
        "Ines",
        "Jakub",
        "Kofi",
        "Lena",
        "Marta",
        "Noah",
        "Olga",
        "Pedro",
        "Qing",
        "Rosa",
        "Sam",
        "Tomasz",
        "Uma",
        "Victor",
        "Wen",
        "Ximena",
        "Yusuf",
        "Zofia",
    ]
)
LAST = np.array(
    [
        "Silva",
        "Smith",
        "Kowalski",
        "Garcia",
        "Müller",
        "Dubois",
        "Rossi",
        "Nowak",
        "Santos",
        "Brown",
        "Khan",
        "Lopez",
        "Novak",
        "Tanaka",
        "Okafor",
        "Jensen",
        "Costa",
        "Fischer",
        "Martin",
        "Patel",
    ]
)
TITLE_WORDS = {
    "Junior": "Junior {d} Associate",
    "Mid-level": "{d} Specialist",
    "Manager": "{d} Manager",
    "Director": "Director of {d}",
    "VP": "VP {d}",
    "C-level": "Chief {d} Officer",
}


def contact_details(
    rng: np.random.Generator, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """First and last names, e-mail addresses and phone numbers of ``n`` leads, drawn from
    ``rng`` in a fixed order (the history is deterministic lead for lead)."""
    first = rng.choice(FIRST, size=n)
    last = rng.choice(LAST, size=n)
    domain = np.char.add(
        np.char.lower(rng.choice(LAST, size=n)), rng.choice([".com", ".io", ".co"], size=n)
    )
    email = np.char.add(
        np.char.add(np.char.lower(np.char.add(np.char.add(first, "."), last)), "@"), domain
    )
    phone = [
        f"+{cc} {a:03d} {b:03d} {c:04d}"
        for cc, a, b, c in zip(
            rng.choice([1, 44, 49, 33, 55, 91, 34, 48], size=n),
            rng.integers(200, 999, n),
            rng.integers(100, 999, n),
            rng.integers(0, 9999, n),
            strict=True,
        )
    ]
    return first, last, email, phone


def job_titles(seniorities: Sequence[str], departments: Sequence[str]) -> np.ndarray:
    """The job title of each (seniority, department) pair, as a table indexed by both."""
    return np.array(
        [[TITLE_WORDS[s].format(d=d) for d in departments] for s in seniorities], dtype=object
    )
