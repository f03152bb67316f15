"""What a person declares before opening a case, kept as versions of the text they saw.

A case stores, for each declaration, the version identifier of the exact words shown, never free
text: if the words change, add a new version here (keep the old ones), so every stored case can
still be traced to what its person agreed to.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Declaration:
    key: str
    version: str
    text: str


# Current versions, in the order the page shows them.
CURRENT = [
    Declaration("over_18", "over_18.v1", _("I am 18 or older.")),
    Declaration("in_image", "in_image.v1", _("I am in these images or videos. Other people may be in them too.")),
    Declaration("intimate", "intimate.v1", _("They are intimate: nude, sexual, or showing me undressed.")),
    Declaration(
        "agree",
        "agree.v1",
        _(
            "I understand that only fingerprints of my files are sent, and that they will be shared "
            "with the platforms that take part, to find and remove copies."
        ),
    ),
]

# Every version ever shown, by its identifier, so old cases' versions stay meaningful.
ALL_VERSIONS = {d.version: d for d in CURRENT}


def current_versions() -> dict[str, str]:
    return {d.key: d.version for d in CURRENT}
