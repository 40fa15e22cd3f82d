"""The catalog: control families and profiles as validated, frozen models."""

from .loader import load_catalog, load_profile, resolve_profile_path, validate
from .models import Catalog, Check, Control, EvidenceRequirement, Family, Param, Procedure, Profile

__all__ = [
    "Catalog", "Check", "Control", "EvidenceRequirement", "Family", "Param", "Procedure", "Profile",
    "load_catalog", "load_profile", "resolve_profile_path", "validate",
]
