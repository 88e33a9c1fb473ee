"""Advanced Alchemy 1.12: the package (its bases are in advanced_alchemy.base)."""
from advanced_alchemy import base
